/**
 * Shared plumbing of the command-line entry points: one-line errors with
 * exit status 2, data-directory options, and atomic JSON output.
 *
 * @module
 */
import { type Command, CommanderError } from "commander";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../fsutil.ts";
import { type SourceOptions, sourceOptionsFromEnv } from "../data/source.ts";

/**
 * Runs a command's main function; a {@linkcode UserError} (or a commander
 * usage error) is printed as one `error:` line and exits with status 2.
 */
export async function runMain(
  main: () => Promise<number | void>,
): Promise<void> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}

/** Source options: `--data-dir` wins over `RNNLAB_DATA_DIR`. */
export function sourceOptions(dataDir?: string): SourceOptions {
  const env = sourceOptionsFromEnv();
  return { ...env, dataDir: dataDir ?? env.dataDir };
}

/** Atomic JSON write for `--json`: a missing directory or no permission is a user error. */
export async function writeJsonOutput(
  path: string,
  value: unknown,
): Promise<void> {
  try {
    await writeJsonAtomic(path, value);
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied
    ) {
      throw new UserError(
        `--json: cannot write ${path} (${(e as Error).message})`,
      );
    }
    throw e;
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
