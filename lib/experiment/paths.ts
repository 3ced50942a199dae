/**
 * Where things are: the repository root, its `results/`, and the results
 * directory of a run.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { Overrides } from "./grid.ts";

/** Repository root, where `results/` lives. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url))
  .replace(/\/$/, "");

/** The committed results: `results/` in the repository. */
export const RESULTS_DIR = `${ROOT}/results`;

/**
 * Where a run writes: `out`, else `results/<name>`, or
 * `results/_local/<name>--<key=value,…>` for a run with `--set` overrides
 * (never over the committed tables).
 *
 * @example
 * ```ts
 * outputDir("sampling", { num_epochs: 5 }); // ".../results/_local/sampling--num_epochs=5"
 * ```
 */
export function outputDir(
  name: string,
  overrides: Overrides,
  out?: string,
): string {
  if (out) return out;
  const slug = Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(",");
  return slug
    ? `${RESULTS_DIR}/_local/${name}--${slug}`
    : `${RESULTS_DIR}/${name}`;
}

/** A path as a user reads it: relative to the repository when inside it. */
export const shownPath = (path: string): string =>
  path.startsWith(ROOT + "/") ? path.slice(ROOT.length + 1) : path;
