/**
 * What `deno task exp --list` shows: every experiment file with its cell
 * count and a time estimate, and each file that does not load with why, so
 * one broken file never hides the others.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { EngineChoice } from "../config/config.ts";
import { expandConfigs } from "./grid.ts";
import { listExperiments, loadExperiment } from "./load.ts";
import type { ExperimentSpec } from "./spec.ts";
import { estimateSeconds } from "./estimate.ts";
import { plannedConfigs, searchSeconds } from "./search.ts";

/** One experiment file as listed. */
export type Listed =
  | { name: string; spec: ExperimentSpec; cells: number; seconds: number }
  | { name: string; error: string };

/**
 * Every experiment file, loaded and expanded for `machine`.
 *
 * @example
 * ```ts
 * for (const e of await listing(await pickEngine())) console.log(e.name);
 * ```
 */
export async function listing(machine: EngineChoice): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const name of await listExperiments()) {
    try {
      const { spec, file } = await loadExperiment(name, { allowLarge: true });
      if (spec.search) {
        out.push({
          name,
          spec,
          cells: plannedConfigs(spec),
          seconds: searchSeconds(spec, { file, machine }),
        });
        continue;
      }
      const configs = expandConfigs(spec, {
        allowLarge: true,
        machine,
        file,
      });
      out.push({
        name,
        spec,
        cells: configs.length,
        seconds: estimateSeconds(configs),
      });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      out.push({ name, error: e.message });
    }
  }
  return out;
}
