/**
 * Finding and loading experiment files from `experiments/`.
 *
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { UserError } from "../errors.ts";
import { type ExperimentSpec, validateExperiment } from "./spec.ts";

/** The directory holding the experiment files: `RNNLAB_EXPERIMENTS_DIR`, else the repository's `experiments/`. */
export const EXPERIMENTS_DIR: string = Deno.env.get("RNNLAB_EXPERIMENTS_DIR") ||
  fileURLToPath(new URL("../../experiments", import.meta.url));

/** Names of the experiments in `dir`, sorted. */
export async function listExperiments(
  dir = EXPERIMENTS_DIR,
): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      names.push(e.name.slice(0, -3));
    }
  }
  return names.sort();
}

/**
 * Imports `dir/<name>.ts` and validates its default export.
 *
 * @example
 * ```ts
 * const spec = await loadExperiment("clipping-ablation");
 * ```
 */
export async function loadExperiment(
  name: string,
  options: { dir?: string; allowLarge?: boolean } = {},
): Promise<{ spec: ExperimentSpec; file: string }> {
  const dir = options.dir ?? EXPERIMENTS_DIR;
  const file = `${dir}/${name}.ts`;
  const shown = file.startsWith(Deno.cwd() + "/")
    ? file.slice(Deno.cwd().length + 1)
    : file;
  if (
    !/^[a-z0-9][a-z0-9-]*$/.test(name) ||
    !(await Deno.stat(file).catch(() => null))?.isFile
  ) {
    const known = await listExperiments(dir).catch(() => []);
    throw new UserError(
      `experiment ${JSON.stringify(name)}: no file ${shown} (experiments: ${
        known.join(", ") || "none"
      })`,
    );
  }
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new UserError(
      `${shown}: cannot be loaded: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const spec = validateExperiment(mod.default, shown, {
    expectedName: name,
    allowLarge: options.allowLarge,
  });
  return { spec, file: shown };
}
