/**
 * The errors users see, each printed on one line by the command-line entry
 * points: a {@linkcode UserError} (bad input: a flag, a config, a file;
 * exit status 2) names the file, key and value at fault; an
 * {@linkcode IoError} (the file system failed: disk full, read-only, no
 * permission; exit status 1) names the path and what to do. Any other
 * exception is a bug and keeps its stack trace.
 *
 * @module
 */

/** An error caused by the user's input (flags, config, corpus files). */
export class UserError extends Error {
  /** An error whose message names the file, key and value at fault. */
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A file-system failure, said as the path, the cause and what to do. */
export class IoError extends Error {
  /** An error whose message names the path, the cause and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "IoError";
  }
}

/** What the OS said, in words, and what to do about it, by error code. */
const CAUSES: Record<string, [string, string]> = {
  ENOSPC: ["no space left on the device", "free some space"],
  EDQUOT: ["disk quota exceeded", "free some space"],
  EROFS: ["read-only file system", "choose a writable location"],
  EACCES: ["permission denied", "choose a location you may write to"],
  EPERM: ["operation not permitted", "choose a location you may write to"],
  ENOTDIR: ["a part of the path is a file, not a directory", "check the path"],
  EISDIR: ["is a directory", "name a file"],
  ENOENT: ["no such file or directory", "check the path"],
  EEXIST: ["already exists", "choose another path"],
  EIO: ["input/output error", "check the disk"],
  EMFILE: ["too many open files", "raise the limit (ulimit -n)"],
  // Deno's own: the task's permissions do not reach the path (/proc, say).
  NOTCAPABLE: [
    "this task's permissions do not reach it",
    "choose another location",
  ],
};

/** The error code of a file-system error (`ENOSPC`, …; `NOTCAPABLE` for Deno's permissions), or undefined for any other error. */
export function ioCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  if (e instanceof Deno.errors.NotCapable) return "NOTCAPABLE";
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  // Deno's errors carry the OS's words and number: "… (os error 28): …".
  const m = /\(os error (\d+)\)/.exec(e.message);
  const byNumber: Record<string, string> = {
    "2": "ENOENT",
    "13": "EACCES",
    "17": "EEXIST",
    "20": "ENOTDIR",
    "21": "EISDIR",
    "28": "ENOSPC",
    "30": "EROFS",
  };
  return m ? byNumber[m[1]] ?? "EIO" : undefined;
}

/**
 * A file-system error as one line: `path: cause; what to do`. `path` is
 * what was being read or written; `after` is said after the advice (what
 * was kept, how to finish).
 *
 * @example
 * ```ts
 * ioMessage(new Error("No space left on device (os error 28): writefile 'x'"), "x");
 * // "x: no space left on the device; free some space"
 * ```
 */
export function ioMessage(e: unknown, path: string, after = ""): string {
  const code = ioCode(e) ?? "";
  const [cause, advice] = CAUSES[code] ??
    [(e as Error).message?.split("\n")[0] ?? String(e), "check the path"];
  return `${path}: ${cause}; ${advice}${after ? `, ${after}` : ""}`;
}

/**
 * Runs `fn`; a file-system error becomes an {@linkcode IoError} naming
 * `path` (or, with `bad`, a {@linkcode UserError}: the path was a bad
 * argument). Other errors pass unchanged.
 */
export async function io<T>(
  path: string,
  fn: () => Promise<T>,
  options: { after?: string; bad?: boolean } = {},
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UserError || e instanceof IoError || !ioCode(e)) throw e;
    const message = ioMessage(e, path, options.after);
    throw options.bad ? new UserError(message) : new IoError(message);
  }
}
