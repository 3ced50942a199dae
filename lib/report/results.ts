/**
 * What an experiment's results are: the record `results.json` holds, in
 * memory and on file, and its schema tag.
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import type { ExperimentSpec } from "../experiment/spec.ts";
import type { Overrides } from "../experiment/grid.ts";
import type { SummaryRow } from "./aggregate.ts";

/** Schema tag of `results.json`; see docs/results-schema.md. */
export const RESULTS_SCHEMA = "rnnlab.results/2";

/** An experiment's results: the summary and the cells it summarises. */
export interface Results {
  /** The schema, `rnnlab.results/2`. */
  schema: typeof RESULTS_SCHEMA;
  /** The experiment file's spec. */
  experiment: ExperimentSpec;
  /** The `--set` values of this result set. */
  overrides: Overrides;
  /** The command that reproduces these results. */
  command: string;
  /** Grid keys that vary across rows, seed excluded. */
  varying_keys: string[];
  /** One summary row per grid point. */
  rows: SummaryRow[];
  /** The cells, each with its grid point over `varying_keys`. */
  cells: CellRecord[];
  /** A search's decisions (its rows are the winners'). */
  search?: SearchReport;
}

/** A search as its report shows it: each configuration drawn, what it reached, the winners. */
export interface SearchReport {
  /** What the configurations were ranked by. */
  metric: string;
  /** Epochs of each rung. */
  rungs: number[];
  /** Each configuration in the order drawn (`configuration` counts from 1). */
  configurations: {
    configuration: number;
    /** The values drawn for it. */
    values: Record<string, unknown>;
    /** Its metric at each rung it was trained at; null where it was not (yet). */
    metric: (number | null)[];
    /** Whether it went on from each decided rung (after the last: whether it won). */
    went_on: boolean[];
  }[];
  /** The winners' configuration numbers, once the last rung is decided. */
  winners: number[] | null;
}

/** `results.json`: the results with their cells named by id (each is stored once, in `cells/`). */
export type ResultsFile = Omit<Results, "cells"> & { cells: string[] };
