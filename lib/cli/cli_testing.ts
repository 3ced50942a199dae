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
    engine: "blas",
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
    w: {
      root: string;
      run: (args: string[]) => Promise<Ran>;
      /** The environment `run` gives a task (for a process a test starts itself). */
      env: Record<string, string>;
    },
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
    await fn({
      root,
      run: (args) => runTask(args[0], args.slice(1), env),
      env,
    });
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

/**
 * A book behind named pipes, for tests that must hold a runner at a
 * known point: every read of the book (the runner's, when it plans the
 * grid; a worker's, when a job starts) waits until the test lets one
 * through with {@linkcode GatedBook.feed}, so a cell is "in flight" for
 * exactly as long as the test says, however fast the machine. `path` is a
 * link to the pipe the next reader opens; each reader gets a pipe of its
 * own (a writer that opened the same pipe again before its last reader
 * saw the end would hand that reader the book twice).
 */
export class GatedBook {
  /** The corpus path a config names: a link to the next pipe. */
  readonly path: string;
  #pipe = "";
  #count = 0;
  /** A write waits for a reader. */
  #waiting = false;

  private constructor(path: string) {
    this.path = path;
  }

  /** A gated book at `path` (its pipes beside it). */
  static async make(path: string): Promise<GatedBook> {
    const book = new GatedBook(path);
    await book.#next();
    return book;
  }

  /** A new pipe for the next reader, `path` pointing at it. */
  async #next() {
    const pipe = `${this.path}.${this.#count++}`;
    const made = await new Deno.Command("sh", {
      args: ["-c", 'mkfifo "$1"', "sh", pipe],
    }).output();
    if (!made.success) throw new Error(`mkfifo ${pipe} failed`);
    const link = `${this.path}.link`;
    await Deno.symlink(pipe, link);
    await Deno.rename(link, this.path);
    this.#pipe = pipe;
  }

  /** Lets `n` reads through, one after another: each waits for its reader. */
  async feed(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.#waiting = true;
      const pipe = await Deno.open(this.#pipe, { write: true });
      this.#waiting = false;
      await this.#next();
      try {
        await pipe.write(new TextEncoder().encode(BOOK));
      } catch {
        // The reader went away (its process ended): it read nothing.
      } finally {
        pipe.close();
      }
    }
  }

  /** Lets every read through until `done` settles (a process's end), and returns it. */
  async serveUntil<T>(done: Promise<T>): Promise<T> {
    let finished = false;
    const loop = (async () => {
      while (!finished) await this.feed(1);
    })();
    try {
      return await done;
    } finally {
      finished = true;
      // Nobody reads any more: answer the write that waits for a reader.
      if (this.#waiting) await Deno.readFile(this.#pipe);
      await loop;
    }
  }
}

/** The pids of the worker processes writing into results directory `dir` (from `ps`). */
export async function workersOf(dir: string): Promise<number[]> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "ps -eo pid=,args="],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((line) =>
    /^\s*(\d+) (.*)$/.exec(line)
  ).filter((m) => m && m[2].endsWith(`/worker.ts ${dir}`)).map((m) =>
    Number(m![1])
  );
}

/** Waits until no worker writes into `dir` any more: it ends when its runner is gone. */
export async function workersGone(dir: string, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  while ((await workersOf(dir)).length > 0) {
    if (Date.now() > deadline) {
      throw new Error(`a worker for ${dir} outlived its runner`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
