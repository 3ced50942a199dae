/**
 * A small seeded pseudo-random number generator, so that every random choice
 * in rnnlab (iterator offsets, shuffles, parameter init, sampling) is
 * reproducible from one recorded seed, independent of the tfjs backend.
 *
 * @module
 */

/** A seeded source of uniform numbers in [0, 1) with the helpers d2l uses. */
export interface Rng {
  /** Uniform float in [0, 1). */
  random(): number;
  /** Integer uniform in [lo, hi], both ends included (Python's `random.randint`). */
  randint(lo: number, hi: number): number;
  /** Standard normal draw (Box–Muller). */
  normal(): number;
  /** Shuffles `xs` in place (Fisher–Yates) and returns it. */
  shuffle<T>(xs: T[]): T[];
  /** The generator's whole state: {@linkcode makeRng}'s `state` goes on from here. */
  state(): number;
}

/**
 * Creates a generator from a 32-bit seed (mulberry32: tiny, fast, and good
 * enough for sampling; not for cryptography).
 *
 * @example
 * ```ts
 * const rng = makeRng(0);
 * const k = rng.randint(0, 34); // same k every time for seed 0
 * ```
 */
export function makeRng(
  seed: number,
  /** A state that {@linkcode Rng.state} gave: the same draws follow (a checkpoint's data order). */
  state?: number,
): Rng {
  let a = state === undefined ? (seed >>> 0) ^ 0x9e3779b9 : state >>> 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    random,
    randint: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
    normal: () => {
      // 1 - u keeps the log argument in (0, 1].
      const u = 1 - random();
      const v = random();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle<T>(xs: T[]): T[] {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    },
    state: () => a,
  };
}
