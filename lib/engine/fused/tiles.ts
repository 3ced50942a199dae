/**
 * Which tile each kernel of the fused engine uses, per kind of adapter.
 * On a CPU (llvmpipe: a workgroup's 8 invocations are the lanes of one
 * SIMD register, workgroups spread over threads): few workgroups, each
 * invocation with many accumulators. On a GPU: wide workgroups and small
 * tiles, for many threads. A tile decides which invocation computes what,
 * never the order of a sum, so both give the same numbers.
 *
 * @module
 */
/** Invocations per workgroup of the matrix kernels on llvmpipe: one SIMD register of 8 floats. */
export const LANES = 8;

/**
 * The shape of a register tile: a workgroup computes `rb` rows ×
 * `lanes`·`cv` vec4 columns of the result, each invocation `rb` × `cv`
 * vec4 accumulators.
 */
export interface Tile {
  /** Rows per workgroup. */
  rb: number;
  /** vec4 columns per invocation. */
  cv: number;
  /** Invocations per workgroup. */
  lanes: number;
}

/** Workgroups of a product of M rows and N floats of columns. */
export const productGroups = (
  t: Tile,
  M: number,
  N: number,
): [number, number] => [N / 4 / (t.lanes * t.cv), Math.ceil(M / t.rb)];

/** Workgroups of a weight gradient G (K × N floats): rb rows of G and lanes·cv vec4 columns each. */
export const gradientGroups = (
  t: Tile,
  K: number,
  N: number,
): [number, number] => [N / 4 / (t.lanes * t.cv), K / t.rb];

/** vec4 columns per lane, up to `max`, that tile a width of N floats exactly. */
const widestCv = (N: number, max: number) => {
  let cv = max;
  while ((N / 4) % (LANES * cv) !== 0) cv /= 2;
  return cv;
};

/** Invocations per workgroup, up to 64, whose vec4 columns tile N floats. */
const widestLanes = (N: number) => {
  let lanes = 64;
  while ((N / 4) % lanes !== 0) lanes /= 2;
  return lanes;
};

/** The tiles of one kind of adapter, by kernel family. */
export interface Tiles {
  /** The step products (B × K by K × N, one step). */
  step(B: number, N: number): Tile;
  /** The looped recurrences: a workgroup's rows through every step. */
  loop(B: number, N: number): Tile;
  /** Products over many rows (all steps at once). */
  wide(N: number): Tile;
  /** Weight gradients (K rows of G). */
  outer(K: number, N: number): Tile;
  /**
   * The recurrences read their weights, and the products over all steps
   * their operands, from textures: llvmpipe fetches a texel for all 8
   * lanes at once, where it loads storage lane by lane and component by
   * component.
   */
  textures: boolean;
}

/**
 * Tiles per kind of adapter. The CPU tiles are the largest whose kernels
 * compile in about a second on llvmpipe (code grows with rb × cv, and
 * LLVM's time faster than that); docs/performance.md has the measurements.
 */
export const TILES: Record<"cpu" | "gpu", Tiles> = {
  cpu: {
    step: (B, N) => ({ rb: Math.min(B, 16), cv: widestCv(N, 4), lanes: LANES }),
    // Half the step's rows: as fast, and compiled in half the time.
    loop: (B, N) => ({ rb: Math.min(B, 8), cv: widestCv(N, 4), lanes: LANES }),
    wide: (N) => ({ rb: 8, cv: widestCv(N, 2), lanes: LANES }),
    outer: (_K, N) => ({ rb: 16, cv: widestCv(N, 4), lanes: LANES }),
    textures: true,
  },
  gpu: {
    step: (_B, N) => ({ rb: 2, cv: 1, lanes: widestLanes(N) }),
    loop: (_B, N) => ({ rb: 2, cv: 1, lanes: widestLanes(N) }),
    wide: (N) => ({ rb: 4, cv: 1, lanes: widestLanes(N) }),
    outer: (_K, N) => ({ rb: 4, cv: 1, lanes: widestLanes(N) }),
    textures: false,
  },
};

/**
 * The tiles for an adapter: "cpu" for a software adapter (llvmpipe runs
 * workgroups as CPU threads), "gpu" otherwise.
 */
export function tilesFor(adapter: GPUAdapter): "cpu" | "gpu" {
  return isSoftware(adapter) ? "cpu" : "gpu";
}

/** Whether an adapter is a software one (a fallback adapter, llvmpipe, SwiftShader). */
export function isSoftware(adapter: GPUAdapter): boolean {
  const { isFallbackAdapter, description } = adapter.info;
  return Boolean(isFallbackAdapter) ||
    /llvmpipe|lavapipe|swiftshader/i.test(description);
}

/**
 * How the fused engine runs the recurrences: in one dispatch each that
 * loops over the steps, a workgroup's rows together ("looped") or one row
 * per invocation with its state and weights in registers ("rows"); or one
 * dispatch per step ("steps"). All three give the same numbers.
 */
export type Recurrence = "rows" | "looped" | "steps";

/** Most hidden units the "rows" kernels take: their weights are all in registers, and their code grows with H². */
export const ROWS_MAX = 32;

/**
 * Which kernels run the recurrences of a model of `num_hiddens` hidden
 * units on an adapter of `tiles`: the looped ones (a minibatch in about ten
 * dispatches); on a CPU adapter, where every load is costly and registers
 * are not, the rows kernels up to {@linkcode ROWS_MAX} hidden units, and
 * from 129 on the per-step kernels, whose many workgroups read the state
 * as a uniform slot. Each was measured the fastest there
 * (docs/performance.md).
 *
 * @example
 * ```ts
 * loopsFor(32, "cpu"); // "rows"
 * loopsFor(128, "cpu"); // "looped"
 * loopsFor(512, "cpu"); // "steps"
 * ```
 */
export function loopsFor(
  num_hiddens: number,
  tiles: "cpu" | "gpu",
): Recurrence {
  if (tiles === "gpu") return "looped";
  return num_hiddens <= ROWS_MAX
    ? "rows"
    : num_hiddens <= 128
    ? "looped"
    : "steps";
}
