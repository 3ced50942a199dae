/**
 * Running cells: read their corpora, train them (one alone, or a group in
 * the same dispatches), and shape each stored record.
 *
 * @module
 */
import {
  type CorpusText,
  readCorpus,
  type SourceOptions,
} from "../data/source.ts";
import { type Corpus, corpusFor } from "../data/vocab.ts";
import { type CorpusRecord, describeCorpus } from "../data/describe.ts";
import { type BackendInfo, setBackend } from "../model/backend.ts";
import type { TrainConfig } from "../train/config.ts";
import {
  emptyResult,
  engineVersion,
  type EpochLog,
  train_ch8,
  type TrainResult,
} from "../train/train.ts";
import { train_cells } from "../train/cells.ts";
import { collectEnv, type RunEnv } from "../env.ts";
import { describeDevice } from "../engine/pick.ts";
import type { Cell, Overrides } from "./grid.ts";

/** Schema tag of a stored cell; bump on incompatible changes. */
export const CELL_SCHEMA = "rnnlab.cell/2";

/** A finished cell as stored in `cells/<id>.json`. */
export interface CellRecord extends TrainResult {
  /** The record's schema, `rnnlab.cell/2`. */
  schema: typeof CELL_SCHEMA;
  /** The cell's id: the hash of its config, corpus and engine. */
  id: string;
  /** The experiment it belongs to. */
  experiment: string;
  /** The engine version that computed it (`fused/3`, `blas/1`, `reference/1`). */
  engine: string;
  /** The grid point (varying keys, seed excluded). */
  point: Cell["point"];
  /** The fully resolved config it trained. */
  config: TrainConfig;
  /** `--set` values this cell ran with ({} for committed results; a list: a sweep). */
  overrides: Overrides;
  /** What it trained on. */
  corpus: CorpusRecord;
  /** Null when the cell failed before it could start. */
  env: (RunEnv & BackendInfo) | null;
  /**
   * The experiment whose stored run this record copies (same id: same config,
   * corpus and engine); absent when this experiment trained it.
   */
  reused_from?: string;
}

/** What the runner hands a cell process: one cell, or a group trained together. */
export interface CellJob {
  /** The experiment it belongs to. */
  experiment: string;
  /** The cells: one alone, or a group trained together. */
  cells: Cell[];
  /** The `--set` values they run with. */
  overrides: Overrides;
  /** Sharpening exponents α to sample at after training. */
  alphas: number[];
  /** Where the corpora are read from. */
  source: SourceOptions;
}

/** The fields that say which cell a record is. */
function recordHeader(job: CellJob, cell: Cell) {
  return {
    schema: CELL_SCHEMA,
    id: cell.id,
    experiment: job.experiment,
    engine: engineVersion(cell.config),
    point: cell.point,
    config: cell.config,
    overrides: job.overrides,
  } as const;
}

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

/**
 * The record of a cell that could not run (bad corpus, crash): status
 * `failed` with the message, no numbers. Failed cells are retried by the
 * next run; finished and diverged ones are kept.
 */
export function failedRecord(
  job: Omit<CellJob, "cells">,
  cell: Cell,
  message: string,
): CellRecord {
  return {
    ...recordHeader({ ...job, cells: [cell] }, cell),
    ...emptyResult(),
    status: "failed",
    error: message,
    corpus: {
      name: cell.config.corpus,
      source: "",
      sha1: "",
      corpus_length: 0,
      train_tokens: 0,
      val_tokens: 0,
      vocab: [],
    },
    env: null,
  };
}
