/**
 * Shared plumbing of the command-line entry points: one-line errors with
 * exit status 2, data-directory options, and atomic JSON output.
 *
 * @module
 */
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
