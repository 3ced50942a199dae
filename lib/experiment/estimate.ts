/**
 * How long a grid takes, before it runs: each cell's arithmetic,
 * 6·(H² + 2HV) FLOP per token and pass, at the rate its engine and backend
 * reached on the 2-core development machine at 512 hidden units (tokens/s
 * of the committed `deno task bench`, results/bench, times that FLOP count).
 *
 * @module
 */
import type { TrainConfig } from "../config/config.ts";

/** FLOP/s per engine and backend on the 2-core development machine. */
export const FLOPS: Record<string, number> = {
  "blas/cpu": 113e9,
  "fused/webgpu": 26.1e9,
  "reference/wasm": 11.1e9,
  "reference/webgpu": 2.4e9,
  "reference/cpu": 1.1e9,
};

/** Characters in The Time Machine, the most a cell trains on here. */
const CORPUS_TOKENS = 170_000;

/**
 * Estimated seconds to train `configs` one after another on the 2-core
 * machine. `detach: false` replays the epoch: about 4.5 passes per
 * minibatch at the chapter's 8 minibatches.
 *
 * @example
 * ```ts
 * estimateSeconds([resolveConfig({ engine: "blas" })]); // ≈ 500 · 10,000 tokens · 6·(512² + 2·512·28) / 113e9
 * ```
 */
export function estimateSeconds(configs: TrainConfig[]): number {
  return configs.reduce((total, c) => {
    const V = 28, H = c.num_hiddens;
    const tokens = c.num_epochs *
      Math.min(c.max_tokens || CORPUS_TOKENS, CORPUS_TOKENS);
    const passes = c.detach ? 1 : 4.5;
    const rate = FLOPS[`${c.engine}/${c.backend}`];
    return total + tokens * passes * 6 * (H * H + 2 * H * V) / rate;
  }, 0);
}

/** Seconds as a person reads them: "40 s", "12 min", "3.5 h". */
export const duration = (s: number): string =>
  s < 90
    ? `${Math.round(s)} s`
    : s < 5400
    ? `${Math.round(s / 60)} min`
    : `${(s / 3600).toFixed(1)} h`;
