/**
 * Runs a command-line entry point in a child process, with the permissions
 * its `deno.json` task grants, for end-to-end tests.
 *
 * @module
 */
import { denoProgram } from "../env.ts";
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
  return new Deno.Command(denoProgram(), {
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

/** A few lines of the book, enough for tiny grids. */
export const BOOK =
  `The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
twinkled, and his usually pale face was flushed and animated.\n`.repeat(4);

/** A grid of four tiny cells (8 hidden units, 3 epochs), for the CLI tests. */
export const TINY = {
  description: "A tiny grid for the runner's tests.",
  exercises: ["4. No clipping?"],
  base: {
    num_hiddens: 8,
    num_steps: 5,
    batch_size: 4,
    num_epochs: 3,
    max_tokens: 300,
    val_tokens: 60,
    eval_every: 2,
    num_preds: 10,
    backend: "cpu",
  },
  grid: { clip: [1, "off"], lr: [1, 2] },
  seeds: [0],
};

/**
 * A temporary world for end-to-end tests: an experiments dir holding
 * `specs` (objects, whose corpus becomes the world's book, or file texts),
 * the book, and `run`, which runs a task there.
 */
export async function world(
  specs: Record<string, unknown>,
  fn: (
    w: { root: string; run: (args: string[]) => Promise<Ran> },
  ) => Promise<void>,
) {
  const root = await Deno.makeTempDir({ prefix: "rnnlab-exp-test-" });
  try {
    await Deno.mkdir(`${root}/experiments`);
    await Deno.writeTextFile(`${root}/book.txt`, BOOK);
    for (const [name, spec] of Object.entries(specs)) {
      const body = typeof spec === "string"
        ? spec
        : `export default ${
          JSON.stringify({
            name,
            ...spec as object,
            base: {
              ...(spec as { base?: object }).base,
              corpus: `${root}/book.txt`,
            },
          })
        };\n`;
      await Deno.writeTextFile(`${root}/experiments/${name}.ts`, body);
    }
    const env = {
      RNNLAB_EXPERIMENTS_DIR: `${root}/experiments`,
      RNNLAB_OFFLINE: "1",
    };
    await fn({ root, run: (args) => runTask(args[0], args.slice(1), env) });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The cell files of a results directory, sorted. */
export const cellFiles = (dir: string): string[] => {
  try {
    return [...Deno.readDirSync(`${dir}/cells`)].map((e) => e.name).filter((
      n,
    ) => n.endsWith(".json")).sort();
  } catch {
    return [];
  }
};

/** `deno task train` of a model as small as {@linkcode TINY}'s on `corpus`. */
export const tinyTrain = (corpus: string, epochs: number): string[] => [
  "train",
  "--corpus",
  corpus,
  "--num_hiddens",
  "8",
  "--num_epochs",
  String(epochs),
  "--max_tokens",
  "300",
  "--num_steps",
  "5",
  "--batch_size",
  "4",
];
