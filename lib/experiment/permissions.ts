/**
 * The permissions of a cell process, read from the one place that lists
 * them: the `exp` task of `deno.json`. A cell process gets the same, except
 * that it starts no Deno of its own (`--allow-run` keeps `git` only).
 *
 * @module
 */
import { denoProgram } from "../env.ts";
import { ROOT } from "./paths.ts";

/** The `deno run` flags of a task in `deno.json` (`--allow-…` and the like), without the script. */
export function taskFlags(task: string, root = ROOT): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`))
    .tasks as Record<string, string>;
  const words = tasks[task]?.split(/\s+/) ?? [];
  if (words[0] !== "deno" || words[1] !== "run" && words[1] !== "test") {
    throw new Error(`deno.json: task ${task} is not "deno run …"`);
  }
  return words.slice(2).filter((w) => w.startsWith("--"));
}

/**
 * The command that runs one cell (`lib/cli/cell.ts`) with the exp task's
 * permissions, by this Deno ({@linkcode denoProgram}).
 */
export function cellCommand(): { program: string; args: string[] } {
  const flags = taskFlags("exp").map((f) =>
    f.startsWith("--allow-run=") ? "--allow-run=git" : f
  );
  return {
    program: denoProgram(),
    args: [
      "run",
      ...flags,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/lib/cli/cell.ts`,
    ],
  };
}
