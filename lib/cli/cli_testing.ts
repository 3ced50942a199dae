/**
 * Runs a command-line entry point in a child process, with the permissions
 * its `deno.json` task grants, for end-to-end tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Permissions of each task, as in deno.json. */
const TASKS = JSON.parse(
  Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
).tasks as Record<string, string>;

/** `deno run` with the task's own flags, from the repository root. */
function taskCommand(
  task: string,
  args: string[],
  env: Record<string, string>,
  output: "piped" | "null",
): Deno.Command {
  const words = TASKS[task].split(/\s+/);
  return new Deno.Command(Deno.execPath(), {
    args: [...words.slice(1), ...args],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { NO_COLOR: "1", ...env },
    stdout: output,
    stderr: output,
  });
}

/** Output of a finished child process. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno task <task> <args>` the way the task does, via `deno run` with
 * the task's own flags, so a test also proves the task's permissions suffice.
 */
export async function runTask(
  task: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Ran> {
  const out = await taskCommand(task, args, env, "piped").output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    stderr: decode(out.stderr),
  };
}

/**
 * Starts `deno task <task> <args>` as a child process without waiting, for
 * tests that kill it; `output: "piped"` keeps its output for `.output()`.
 */
export function runTaskProcess(
  task: string,
  args: string[],
  env: Record<string, string> = {},
  output: "piped" | "null" = "null",
): Deno.ChildProcess {
  return taskCommand(task, args, env, output).spawn();
}
