/**
 * Training a job's cells: read their corpora, train them (those of one
 * shape on the fused engine together, in the same dispatches; the others
 * one after another), and hand over each record the moment its cell
 * finished. Loaded only by the worker process (`worker.ts`).
 *
 * @module
 */
import { type CorpusText, readCorpus } from "../data/source.ts";
import { type Corpus, corpusFor } from "../data/vocab.ts";
import { describeCorpus } from "../data/describe.ts";
import { type EpochLog, train_cells } from "../train/train.ts";
import { collectEnv, type RunEnv } from "../env.ts";
import { describeBackend } from "../engine/pick.ts";
import { type CellJob, type CellRecord, recordHeader } from "./cell.ts";
import { type Cell, cellId } from "./grid.ts";
import { UserError } from "../errors.ts";

/** What {@linkcode trainJob} tells as it goes. */
export interface CellEvents {
  /** Sees each cell's epoch logs as they end. */
  onEpoch?: (cell: Cell, log: EpochLog) => void;
  /** A cell's record, the moment the cell finished (awaited: it is stored here). */
  onRecord?: (record: CellRecord) => void | Promise<void>;
}

/** The process's environment, read once: a worker trains many jobs. */
let environment: Promise<RunEnv> | undefined;

/**
 * Trains a job's cells and hands each record over the moment its cell
 * finished. Training failures are recorded in `status`, never thrown; a
 * record `onRecord` cannot store is (its error is thrown).
 *
 * @example
 * ```ts
 * await trainJob(job, { onRecord: (r) => writeCell(dir, r) });
 * ```
 */
export async function trainJob(
  job: CellJob,
  events: CellEvents = {},
): Promise<void> {
  const texts = new Map<string, CorpusText>();
  const members: { cell: Cell; source: CorpusText; corpus: Corpus }[] = [];
  for (const cell of job.cells) {
    const { config } = cell;
    const source = texts.get(config.corpus) ??
      await readCorpus(config.corpus, job.source);
    texts.set(config.corpus, source);
    // The id names the corpus by its SHA-1 as the grid was planned: a
    // book changed since would be trained on under another run's name.
    if (await cellId(config, source.sha1) !== cell.id) {
      throw new UserError(
        `corpus ${source.source} changed since the grid was planned (its SHA-1 is now ${source.sha1}); rerun the same command`,
      );
    }
    members.push({ cell, source, corpus: corpusFor(source.text, config) });
  }
  // Each cell's own: the fused engine's kernels depend on its num_hiddens.
  const machine = await (environment ??= collectEnv());
  const backends = new Map<string, ReturnType<typeof describeBackend>>();
  const envs = await Promise.all(members.map(async ({ cell }) => {
    const { engine, backend, num_hiddens } = cell.config;
    const key = `${engine}/${backend}/${num_hiddens}`;
    if (!backends.has(key)) backends.set(key, describeBackend(cell.config));
    return { ...machine, ...await backends.get(key)! };
  }));
  const record = (
    i: number,
    result: Awaited<ReturnType<typeof train_cells>>[number],
  ): CellRecord => {
    const { cell, source, corpus } = members[i];
    return {
      ...recordHeader(job, cell),
      ...result,
      corpus: describeCorpus(source, corpus, cell.config.letters),
      env: envs[i],
    };
  };
  await train_cells(
    members.map(({ cell, corpus }, i) => ({
      config: cell.config,
      corpus,
      hooks: {
        onEpoch: (log: EpochLog) => events.onEpoch?.(cell, log),
        sample_alphas: job.alphas,
        onResult: (result) => events.onRecord?.(record(i, result)),
      },
    })),
    job.cells.length,
  );
}
