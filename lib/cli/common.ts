/**
 * Shared plumbing of the command-line entry points: one-line errors with
 * exit status 2, data-directory options, and atomic JSON output.
 *
 * @module
 */
import { UserError } from "../errors.ts";
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

/**
 * Writes JSON to `path` atomically (a temporary file renamed into place), so
 * a reader never sees half a file.
 */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
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
