/**
 * The permissions of a cell process, read from the one place that lists
 * them: the `exp` task of `deno.json`. A cell process gets the same, except
 * that it starts no Deno of its own (`--allow-run` keeps `git` only).
 *
 * @module
 */
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
 * permissions: the running Deno when this process may start it, else `deno`
 * from PATH, which the task's `--allow-run=git,deno` grants.
 */
export function cellCommand(): { program: string; args: string[] } {
  const flags = taskFlags("exp").map((f) =>
    f.startsWith("--allow-run=") ? "--allow-run=git" : f
  );
  const self = Deno.permissions.querySync({
    name: "run",
    command: Deno.execPath(),
  });
  return {
    program: self.state === "granted" ? Deno.execPath() : "deno",
    args: [
      "run",
      ...flags,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/lib/cli/cell.ts`,
    ],
  };
}
