/**
 * Shared plumbing of the command-line entry points: one-line errors with
 * exit status 2, data-directory options, and atomic JSON output.
 *
 * @module
 */
import { type Command, CommanderError } from "commander";
import { basename, dirname, join } from "node:path";
import { io, ioCode, IoError, ioMessage, UserError } from "../errors.ts";
import { writeJsonAtomic } from "../fsutil.ts";
import { type SourceOptions, sourceOptionsFromEnv } from "../data/source.ts";

/**
 * Runs a command's main function; a {@linkcode UserError} (or a commander
 * usage error) is printed as one `error:` line and exits with status 2, an
 * {@linkcode IoError} or any file-system error as one line with status 1.
 */
export async function runMain(
  main: () => Promise<number | void>,
): Promise<void> {
  let status: number;
  try {
    status = (await main()) ?? 0;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    if (e instanceof IoError) {
      console.error(`error: ${e.message}`);
      Deno.exit(1);
    }
    // A file-system error nobody named a path for: still one line. Deno's
    // message ends with the operation and path.
    if (ioCode(e)) {
      const where = /: (\w+) '([^']*)'/.exec((e as Error).message);
      console.error(
        `error: ${ioMessage(e, where ? where[2] : "a file")}${
          where ? ` (${where[1]})` : ""
        }`,
      );
      Deno.exit(1);
    }
    throw e;
  }
  Deno.exit(status);
}

/** Source options: `--data-dir` wins over `RNNLAB_DATA_DIR`. */
export function sourceOptions(dataDir?: string): SourceOptions {
  const env = sourceOptionsFromEnv();
  return { ...env, dataDir: dataDir ?? env.dataDir };
}

/**
 * Checks, before any work, that `--json PATH` can be written: not a
 * directory, in a directory that exists, writable (a probe file is created
 * and removed beside it). A bad target is a {@linkcode UserError}.
 */
export async function checkJsonTarget(path: string, flag = "--json") {
  const info = await Deno.stat(path).catch(() => null);
  if (info?.isDirectory) {
    throw new UserError(`${flag}: ${path} is a directory; name a file`);
  }
  const dir = dirname(path);
  if (!(await Deno.stat(dir).catch(() => null))?.isDirectory) {
    throw new UserError(
      `${flag}: directory ${JSON.stringify(dir)} does not exist`,
    );
  }
  const probe = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  await io(path, async () => {
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  }, { bad: true }).catch(async (e) => {
    await Deno.remove(probe).catch(() => {});
    throw e instanceof UserError ? new UserError(`${flag}: ${e.message}`) : e;
  });
}

/**
 * Atomic JSON write for `--json`. When the write fails (the disk filled
 * while the run trained), the record is not lost: it is written to a
 * temporary file instead, or else printed on stdout, and the error says where.
 */
export async function writeJsonOutput(
  path: string,
  value: unknown,
  flag = "--json",
): Promise<void> {
  try {
    await writeJsonAtomic(path, value);
  } catch (e) {
    if (!ioCode(e)) throw e;
    let kept: string;
    try {
      const tmp = await Deno.makeTempFile({
        prefix: "rnnlab-record-",
        suffix: ".json",
      });
      await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
      kept = `the record was written to ${tmp} instead`;
    } catch {
      console.log(JSON.stringify(value));
      kept = "the record was printed on stdout instead";
    }
    throw new IoError(`${flag}: ${ioMessage(e, path, kept)}`);
  }
}

/** An output directory (`--out`) may not exist yet, but must not be a file. */
export async function checkOutDir(dir: string, flag = "--out") {
  const info = await Deno.stat(dir).catch(() => null);
  if (info && !info.isDirectory) {
    throw new UserError(`${flag}: ${dir} is a file, not a directory`);
  }
}

/** A results directory given as an argument must be a directory (`what` names the argument). */
export async function checkResultsDir(dir: string, what: string) {
  const info = await Deno.stat(dir).catch(() => null);
  if (!info) {
    throw new UserError(`${what}: ${dir}: no such directory`);
  }
  if (!info.isDirectory) {
    throw new UserError(
      `${what}: ${dir} is a file, not a results directory (one holding cells/)`,
    );
  }
}

/** The `--data-dir` option every task that reads a corpus takes. */
export const DATA_DIR_OPTION = [
  "--data-dir <dir>",
  "directory holding the corpus files (env RNNLAB_DATA_DIR)",
] as const;

/**
 * Parses `Deno.args` with `program`. Returns null to go on, or the exit
 * status when commander has answered already (help: 0; a usage error,
 * printed as one `error:` line: 2).
 */
export function parseCommand(program: Command): number | null {
  program.exitOverride().allowExcessArguments(false);
  try {
    program.parse(Deno.args, { from: "user" });
    return null;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
}

/** Parses `--tolerance`: a relative tolerance ≥ 0. */
export function parseTolerance(raw: string): number {
  const tolerance = Number(raw);
  if (raw.trim() === "" || !(tolerance >= 0)) {
    throw new UserError(
      `--tolerance: expected a number ≥ 0, got ${JSON.stringify(raw)}`,
    );
  }
  return tolerance;
}

/** Parses a duration flag in seconds (`--checkpoint-every`): a finite number ≥ 0. */
export function parseSeconds(raw: string, flag: string): number {
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
    throw new UserError(
      `${flag}: expected a number of seconds ≥ 0, got ${JSON.stringify(raw)}`,
    );
  }
  return seconds;
}

/** Parses a count flag (`--jobs`, `--epochs`): a whole number ≥ 1. */
export function parseCount(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError(
      `${flag}: expected a whole number ≥ 1, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** A count and its noun: `1 cell`, `3 cells`. */
export const plural = (n: number, what: string): string =>
  `${n} ${what}${n === 1 ? "" : "s"}`;
