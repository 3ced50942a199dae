/**
 * Text generation from a trained model: d2l's `predict_ch8` (warm up on the
 * prefix, then greedy), and sampling from q ∝ P^α (exercise 3: α = 1 is plain
 * sampling, α > 1 sharpens towards greedy).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../data/prng.ts";
import type { Vocab } from "../data/vocab.ts";
import type { RNNModelScratch } from "./rnn.ts";

/** How each next token is chosen. */
export type Decoding =
  | { kind: "greedy" }
  | { kind: "sample"; alpha: number; rng: Rng };

/**
 * Draws an index from the distribution softmax(α·logits), i.e. q ∝ P^α.
 * Exported so the rule can be tested without a model.
 */
export function sampleIndex(
  logits: ArrayLike<number>,
  alpha: number,
  rng: Rng,
): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    max = Math.max(max, alpha * logits[i]);
  }
  const weights = Array.from(logits, (l) => Math.exp(alpha * l - max));
  let u = rng.random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/**
 * d2l's `predict_ch8`: feeds `prefix` one character at a time to warm up the
 * state, then generates `num_preds` characters, each fed back as the next
 * input. Greedy unless `decoding` says to sample.
 *
 * @example
 * ```ts
 * await predict("time traveller", 50, model, vocab); // "time traveller ..." (14 + 50 characters)
 * ```
 */
export async function predict(
  prefix: string,
  num_preds: number,
  net: RNNModelScratch,
  vocab: Vocab,
  decoding: Decoding = { kind: "greedy" },
): Promise<string> {
  const outputs = [vocab.toIndex(prefix[0])];
  let state = net.begin_state(1);
  const step = async (token: number): Promise<Float32Array> => {
    const [Y, H] = tf.tidy(() => {
      const [Y, H] = net.forward(
        tf.tensor2d([[token]], [1, 1], "int32"),
        state,
      );
      return [Y, H];
    });
    state.dispose();
    state = H;
    const logits = (await Y.data()) as Float32Array;
    Y.dispose();
    return logits;
  };
  // Warm-up period: only the state matters, the outputs are the prefix itself.
  for (const ch of [...prefix].slice(1)) {
    await step(outputs[outputs.length - 1]);
    outputs.push(vocab.toIndex(ch));
  }
  for (let i = 0; i < num_preds; i++) {
    const logits = await step(outputs[outputs.length - 1]);
    outputs.push(
      decoding.kind === "greedy"
        ? argmax(logits)
        : sampleIndex(logits, decoding.alpha, decoding.rng),
    );
  }
  state.dispose();
  return outputs.map((i) => vocab.toToken(i)).join("");
}
