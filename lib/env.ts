/**
 * The environment a run executed in (Deno, OS, CPU, git commit), recorded
 * with every result so numbers can be traced to what produced them.
 *
 * @module
 */
import { cpus } from "node:os";

/** Where a run executed. */
export interface RunEnv {
  /** Deno's version. */
  deno: string;
  /** V8's version. */
  v8: string;
  /** TypeScript's version. */
  typescript: string;
  /** Operating system and release. */
  os: string;
  /** CPU architecture. */
  arch: string;
  /** CPU model. */
  cpu: string;
  /** Logical CPUs. */
  cpu_count: number;
  /** `git rev-parse HEAD` of the working tree (or a bundle's, from RNNLAB_GIT_COMMIT), or null outside git. */
  git_commit: string | null;
  /** Whether the working tree had uncommitted changes outside `results/`. */
  git_dirty: boolean | null;
}

/**
 * The environment for `git` without the loader variables (`LD_*`, `DYLD_*`):
 * with one of them set (GPU machines set LD_LIBRARY_PATH), Deno refuses to
 * spawn under a scoped `--allow-run=git`, and the record would lose its commit.
 */
function gitEnv(): Record<string, string> | undefined {
  try {
    return Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([k]) =>
        !/^(LD|DYLD)_/.test(k)
      ),
    );
  } catch {
    return undefined; // no --allow-env: inherit
  }
}

async function git(args: string[]): Promise<string | null> {
  try {
    const env = gitEnv();
    const out = await new Deno.Command("git", {
      args,
      stderr: "null",
      ...(env ? { clearEnv: true, env } : {}),
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    // No git, or no permission to run it: the record says null.
    return null;
  }
}

/**
 * Collects the run environment. Fields that need a permission that was not
 * granted come back as "unknown" or null rather than failing the run.
 *
 * @example
 * ```ts
 * const env = await collectEnv();
 * env.deno; // "2.9.6"
 * ```
 */
export async function collectEnv(): Promise<RunEnv> {
  let os = Deno.build.os as string;
  let cpu = "unknown";
  let cpu_count = navigator.hardwareConcurrency;
  try {
    os = `${Deno.build.os} ${Deno.osRelease()}`;
    const list = cpus();
    cpu = list[0]?.model ?? cpu;
    cpu_count = list.length || cpu_count;
  } catch {
    // --allow-sys not granted.
  }
  const bundled = bundleCommit();
  if (bundled) {
    return { ...base(os, cpu, cpu_count), ...bundled };
  }
  const commit = await git(["rev-parse", "HEAD"]);
  const status = commit === null
    ? null
    // results/ is the runner's own output (the index is rewritten after each
    // run), not a change to the code that produced a cell.
    : await git([
      "status",
      "--porcelain",
      "--untracked-files=no",
      "--",
      ":/",
      ":(top,exclude)results",
    ]);
  return {
    ...base(os, cpu, cpu_count),
    git_commit: commit,
    git_dirty: status === null ? null : status.length > 0,
  };
}

const base = (os: string, cpu: string, cpu_count: number) => ({
  deno: Deno.version.deno,
  v8: Deno.version.v8,
  typescript: Deno.version.typescript,
  os,
  arch: Deno.build.arch,
  cpu,
  cpu_count,
});

/**
 * The commit an offline bundle was made from, which `docs/gpu/offline.sh`
 * passes as RNNLAB_GIT_COMMIT and RNNLAB_GIT_DIRTY: a git checkout beside the
 * bundle on that host can lag behind the code the bundle holds, so asking
 * its git would name the wrong commit.
 */
function bundleCommit(): Pick<RunEnv, "git_commit" | "git_dirty"> | null {
  try {
    const commit = Deno.env.get("RNNLAB_GIT_COMMIT");
    if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return null;
    return {
      git_commit: commit,
      git_dirty: Deno.env.get("RNNLAB_GIT_DIRTY") === "true",
    };
  } catch {
    return null; // no --allow-env
  }
}

/**
 * What a run computed on, in words: the backend and, on WebGPU, the adapter.
 * Runs agree exactly only when this agrees (rounding differs between
 * adapters, and training amplifies it).
 *
 * @example
 * ```ts
 * computedOn({ backend: "webgpu", adapter: { description: "NVIDIA H200" } });
 * // "webgpu (NVIDIA H200)"
 * ```
 */
export function computedOn(info: {
  backend: string;
  adapter: Record<string, string | boolean> | null;
}): string {
  const a = info.adapter;
  return `${info.backend}${a ? ` (${a.description || a.vendor})` : ""}`;
}

/**
 * The program to start a Deno with: this process's own binary when it may
 * run it, else `deno` from PATH (which a task's `--allow-run=deno`
 * grants: the binary's own path may differ, a symlink's target, say).
 */
export function denoProgram(): string {
  try {
    const self = Deno.permissions.querySync({
      name: "run",
      command: Deno.execPath(),
    });
    return self.state === "granted" ? Deno.execPath() : "deno";
  } catch {
    return "deno";
  }
}
