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
import { type EpochLog, type RunState, train_cells } from "../train/train.ts";
import { collectEnv, computedOn, type RunEnv } from "../env.ts";
import { describeBackend } from "../engine/pick.ts";
import {
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
} from "./checkpoint.ts";
import { type CellJob, type CellRecord, recordHeader } from "./cell.ts";
import { type Cell, cellId } from "./grid.ts";
import { ioCode, ioMessage, UserError } from "../errors.ts";

/** What {@linkcode trainJob} tells as it goes. */
export interface CellEvents {
  /** Sees each cell's epoch logs as they end. */
  onEpoch?: (cell: Cell, log: EpochLog) => void;
  /** A cell's record, the moment the cell finished (awaited: it is stored here). */
  onRecord?: (record: CellRecord) => void | Promise<void>;
  /** A cell goes on from the checkpoint at `path`, after `epoch` epochs. */
  onResumed?: (cell: Cell, epoch: number, path: string) => void;
  /** A checkpoint file that is not one to go on from, and why; the cell starts from epoch 0. */
  onRefused?: (cell: Cell, path: string, reason: string) => void;
  /** A cell's checkpoint is about to be written (a worker checks its runner is still there). */
  onCheckpoint?: (cell: Cell, epoch: number) => void;
  /** A checkpoint could not be written: training goes on without it. */
  onWarning?: (message: string) => void;
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
  /** The results directory whose `checkpoints/` the job's checkpoints are kept in (none without). */
  dir?: string,
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
  const keep = dir === undefined ? undefined : job.checkpoints;
  const of = (i: number) => ({
    config: members[i].cell.config,
    corpus_sha1: members[i].source.sha1,
    computed_on: computedOn(envs[i]),
  });
  const resume = await Promise.all(members.map(async ({ cell, corpus }, i) => {
    if (!keep) return undefined;
    const found = await readCheckpoint(dir!, {
      ...of(i),
      vocab_size: corpus.vocab.length,
    });
    if (found && "refused" in found) {
      events.onRefused?.(cell, found.path, found.refused);
    } else if (found) {
      events.onResumed?.(cell, found.state.epoch, found.path);
      return found.state;
    }
  }));
  let warned = false;
  const checkpoint = async (i: number, state: RunState) => {
    events.onCheckpoint?.(members[i].cell, state.epoch);
    try {
      await writeCheckpoint(dir!, {
        ...of(i),
        state,
        final: state.epoch === members[i].cell.config.num_epochs,
      });
    } catch (e) {
      if (!ioCode(e)) throw e;
      if (!warned) {
        events.onWarning?.(
          `${
            ioMessage(e, `${dir}/checkpoints`)
          }; training goes on without checkpoints`,
        );
      }
      warned = true;
    }
  };
  await train_cells(
    members.map(({ cell, corpus }, i) => ({
      config: cell.config,
      corpus,
      resume: resume[i],
      hooks: {
        onEpoch: (log: EpochLog) => events.onEpoch?.(cell, log),
        sample_alphas: job.alphas,
        onResult: async (result) => {
          await events.onRecord?.(record(i, result));
          // Stored: the checkpoint is no longer needed, but for a search's
          // rung, whose next rung goes on from it.
          if (keep && !(keep.keep_final && result.status === "done")) {
            await removeCheckpoint(dir!, cell.config, members[i].source.sha1)
              .catch(() => {});
          }
        },
        onCheckpoint: (state) => checkpoint(i, state),
      },
    })),
    job.cells.length,
    keep && { every_seconds: keep.every_seconds, final: keep.keep_final },
  );
}
