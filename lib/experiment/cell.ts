/**
 * A cell's stored record: its schema, what it holds, and the record of a
 * cell that could not run. Training a job's cells is `job.ts`; this module
 * loads neither tfjs nor an engine, so reading results stays light.
 *
 * @module
 */
import type { SourceOptions } from "../data/source.ts";
import type { CorpusRecord } from "../data/describe.ts";
import type { BackendInfo } from "../engine/adapter.ts";
import type { TrainConfig } from "../config/config.ts";
import {
  emptyResult,
  engineVersion,
  type TrainResult,
} from "../train/result.ts";
import type { RunEnv } from "../env.ts";
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
  /**
   * Checkpoints (`checkpoint.ts`): each cell's state is kept every
   * `every_seconds` of training and a killed cell goes on from its last;
   * with `keep_final`, a finished cell's last state is kept too (a search
   * goes on from it). Absent: none.
   */
  checkpoints?: { every_seconds: number; keep_final: boolean };
}

/** The fields that say which cell a record is. */
export function recordHeader(job: CellJob, cell: Cell) {
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
