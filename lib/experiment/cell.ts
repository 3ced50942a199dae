/**
 * Running one cell: read its corpus, train it, and shape the stored record.
 *
 * @module
 */
import { readCorpus, type SourceOptions } from "../data/source.ts";
import { corpusFor } from "../data/vocab.ts";
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
import { collectEnv, type RunEnv } from "../env.ts";
import { describeDevice } from "../engine/pick.ts";
import type { Cell } from "./grid.ts";

/** Schema tag of a stored cell; bump on incompatible changes. */
export const CELL_SCHEMA = "rnnlab.cell/2";

/** A finished cell as stored in `cells/<id>.json`. */
export interface CellRecord extends TrainResult {
  schema: typeof CELL_SCHEMA;
  id: string;
  experiment: string;
  engine: string;
  /** The grid point (varying keys, seed excluded). */
  point: Cell["point"];
  config: TrainConfig;
  /** `--set` values this cell ran with ({} for committed results). */
  overrides: Partial<TrainConfig>;
  corpus: CorpusRecord;
  /** Null when the cell failed before it could start. */
  env: (RunEnv & BackendInfo) | null;
  /**
   * The experiment whose stored run this record copies (same id: same config,
   * corpus and engine); absent when this experiment trained it.
   */
  reused_from?: string;
}

/** What the runner hands a cell process. */
export interface CellJob {
  experiment: string;
  cell: Cell;
  overrides: Partial<TrainConfig>;
  alphas: number[];
  source: SourceOptions;
}

/** The fields that say which cell a record is. */
function recordHeader(job: CellJob) {
  return {
    schema: CELL_SCHEMA,
    id: job.cell.id,
    experiment: job.experiment,
    engine: engineVersion(job.cell.config),
    point: job.cell.point,
    config: job.cell.config,
    overrides: job.overrides,
  } as const;
}

/**
 * Trains one cell and returns its record; training failures are recorded in
 * `status`, never thrown.
 *
 * @example
 * ```ts
 * const record = await runCell(job, (log) => console.log(log.epoch, log.train_ppl));
 * ```
 */
export async function runCell(
  job: CellJob,
  onEpoch?: (log: EpochLog) => void,
): Promise<CellRecord> {
  const { config } = job.cell;
  const source = await readCorpus(config.corpus, job.source);
  const corpus = corpusFor(source.text, config);
  const backend = await setBackend(config.backend);
  const result = await train_ch8(config, corpus, {
    onEpoch,
    sample_alphas: job.alphas,
  });
  return {
    ...recordHeader(job),
    ...result,
    corpus: describeCorpus(source, corpus, config.letters),
    env: {
      ...(await collectEnv()),
      ...backend,
      adapter: await describeDevice(config),
    },
  };
}

/**
 * The record of a cell that could not run (bad corpus, crash): status
 * `failed` with the message, no numbers. Failed cells are retried by the next
 * run; finished and diverged ones are kept.
 */
export function failedRecord(job: CellJob, message: string): CellRecord {
  return {
    ...recordHeader(job),
    ...emptyResult(),
    status: "failed",
    error: message,
    corpus: {
      name: job.cell.config.corpus,
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
