/**
 * Running cells: read their corpora, train them (one alone, or a group in
 * the same dispatches), and hand over each record as it is finished.
 *
 * @module
 */
import { type CorpusText, readCorpus } from "../data/source.ts";
import { type Corpus, corpusFor } from "../data/vocab.ts";
import { describeCorpus } from "../data/describe.ts";
import { setBackend } from "../model/backend.ts";
import { type EpochLog, train_ch8, type TrainResult } from "../train/train.ts";
import { train_cells } from "../train/cells.ts";
import { collectEnv } from "../env.ts";
import { describeDevice } from "../engine/pick.ts";
import { type CellJob, type CellRecord, recordHeader } from "./cell.ts";
import type { Cell } from "./grid.ts";

/** What {@linkcode trainJob} tells as it goes. */
export interface CellEvents {
  /** Sees each cell's epoch logs as they end. */
  onEpoch?: (cell: Cell, log: EpochLog) => void;
  /** A cell's record, the moment the cell finished (awaited: it is stored here). */
  onRecord?: (record: CellRecord) => void | Promise<void>;
}

/**
 * Trains a job's cells, one alone or a group together (`train_cells`:
 * every dispatch covers all of them, each computes what it would alone),
 * and hands each record over the moment its cell finished. Training
 * failures are recorded in `status`, never thrown; a record `onRecord`
 * cannot store is (its error is thrown).
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
    members.push({ cell, source, corpus: corpusFor(source.text, config) });
  }
  const backend = await setBackend(job.cells[0].config.backend);
  const env = {
    ...(await collectEnv()),
    ...backend,
    adapter: await describeDevice(job.cells[0].config),
  };
  const record = (i: number, result: TrainResult): CellRecord => {
    const { cell, source, corpus } = members[i];
    return {
      ...recordHeader(job, cell),
      ...result,
      corpus: describeCorpus(source, corpus, cell.config.letters),
      env,
    };
  };
  const hooks = (i: number) => ({
    onEpoch: (log: EpochLog) => events.onEpoch?.(members[i].cell, log),
    sample_alphas: job.alphas,
  });
  if (members.length === 1) {
    const { cell, corpus } = members[0];
    await events.onRecord?.(
      record(0, await train_ch8(cell.config, corpus, hooks(0))),
    );
    return;
  }
  await train_cells(members.map(({ cell, corpus }, i) => ({
    config: cell.config,
    corpus,
    hooks: {
      ...hooks(i),
      onResult: (result: TrainResult) => events.onRecord?.(record(i, result)),
    },
  })));
}
