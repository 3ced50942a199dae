/**
 * What tests need of the machine, and how a test that needs something
 * missing is treated: skipped (ignored, and counted so by `deno test`)
 * where nobody asked for it, but failed, naming what is missing, where
 * `RNNLAB_REQUIRE` lists it (CI lists every one: a check CI is meant to
 * run never passes unseen by being skipped).
 *
 * @example
 * ```ts
 * Deno.test({ name: "sgemm …", ...requires(["blas"], () => { … }) });
 * ```
 *
 * @module
 */
import { openCblas, whyNoCblas } from "./engine/blas/cblas.ts";
import { HAVE_TIME_MACHINE, TEST_DATA_DIR } from "./data/testdata.ts";
import type { TrainResult } from "./train/result.ts";

/** Something a test may need of the machine. */
export type Capability = "blas" | "webgpu" | "chromium" | "root" | "book";

/** Every capability, as `RNNLAB_REQUIRE` may list them. */
export const CAPABILITIES: readonly Capability[] = [
  "blas",
  "webgpu",
  "chromium",
  "root",
  "book",
];

/** The capabilities `RNNLAB_REQUIRE` (comma-separated) asks for. */
export const REQUIRED: ReadonlySet<string> = new Set(
  (Deno.env.get("RNNLAB_REQUIRE") ?? "").split(",").map((s) => s.trim())
    .filter(Boolean),
);
for (const c of REQUIRED) {
  if (!(CAPABILITIES as readonly string[]).includes(c)) {
    throw new Error(
      `RNNLAB_REQUIRE: unknown capability ${JSON.stringify(c)} (${
        CAPABILITIES.join(", ")
      })`,
    );
  }
}

/** The browser the web app's tests drive. */
export const CHROMIUM = "/usr/bin/chromium";

const adapter = await navigator.gpu?.requestAdapter() ?? null;

/** Why `c` is missing here, or null when it is not. */
export function missing(c: Capability): string | null {
  switch (c) {
    case "blas":
      // Installed but not loadable is no skip: openCblas throws in the test.
      try {
        return openCblas() ? null : whyNoCblas();
      } catch {
        return null;
      }
    case "webgpu":
      return adapter ? null : "no WebGPU adapter";
    case "chromium":
      try {
        Deno.statSync(CHROMIUM);
        return null;
      } catch {
        return `no ${CHROMIUM}`;
      }
    case "root":
      return Deno.uid() === 0 ? null : "not root (mounts a small tmpfs)";
    case "book":
      return HAVE_TIME_MACHINE
        ? null
        : `no timemachine.txt in ${TEST_DATA_DIR}`;
  }
}

/**
 * A test's `ignore` and `fn` for a test that needs `caps`: ignored where
 * one is missing and not required; where a missing one is required, the
 * test runs and fails at once, naming what is missing and why.
 */
export function requires<A extends unknown[]>(
  caps: Capability[],
  fn: (...args: A) => void | Promise<void>,
): { ignore: boolean; fn: (...args: A) => Promise<void> } {
  const gone = caps.map((c) => [c, missing(c)] as const).filter(([, why]) =>
    why !== null
  );
  return {
    ignore: gone.length > 0 && gone.every(([c]) => !REQUIRED.has(c)),
    fn: async (...args: A) => {
      if (gone.length > 0) {
        throw new Error(
          `RNNLAB_REQUIRE asks for what is missing here: ${
            gone.map(([c, why]) => `${c} (${why})`).join(", ")
          }`,
        );
      }
      await fn(...args);
    },
  };
}

/** The next float64 after `x` towards +∞: a change of one unit in the last place. */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + (x > 0 ? 1n : -1n));
  return view.getFloat64(0);
}

/** A run's record without what measures time, which differs from run to run: what two runs of one config must share bit for bit. */
export function numbers<R extends TrainResult>(r: R) {
  const { wall_seconds: _w, tokens_per_sec: _t, epochs, ...rest } = r;
  return {
    ...rest,
    epochs: epochs.map(({ tokens_per_sec: _a, seconds: _b, ...e }) => e),
  };
}
