/**
 * Text generation from a trained model: d2l's `predict_ch8` (warm up on the
 * prefix, then greedy), and sampling from q ∝ P^α (exercise 3: α = 1 is plain
 * sampling, α > 1 sharpens towards greedy).
 *
 * @module
 */
import type { Rng } from "../data/prng.ts";
import type { Vocab } from "../data/vocab.ts";
import type { ParamValues, RnnSpec } from "./params.ts";

/** A trained model as prediction takes it: its shape and parameter values (any engine's `values()`). */
export interface Model {
  /** Its sizes and kinds. */
  spec: RnnSpec;
  /** Its parameters by d2l name. */
  params: ParamValues;
}

/** What prediction needs of a vocabulary: tokens to indices and back. */
export type TokenMap = Pick<Vocab, "toIndex" | "toToken">;

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

/** Log-probability of entry `i` under softmax(logits), computed stably. */
export function logSoftmaxAt(logits: ArrayLike<number>, i: number): number {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j]);
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += Math.exp(logits[j] - max);
  return logits[i] - max - Math.log(sum);
}

/** A continuation and how likely the model found it. */
export interface Generation {
  /** The prefix followed by the generated characters. */
  text: string;
  /** Mean log-probability (nats) of each generated character under the model's P (α = 1). */
  mean_log_prob: number;
}

/**
 * d2l's `predict_ch8`: feeds `prefix` one character at a time to warm up the
 * state, then generates `num_preds` characters, each fed back as the next
 * input. Greedy unless `decoding` says to sample.
 *
 * @example
 * ```ts
 * predict("time traveller", 50, { spec, params: await group.values(0) }, vocab); // "time traveller ..." (14 + 50 characters)
 * ```
 */
export function predict(
  prefix: string,
  num_preds: number,
  model: Model,
  vocab: TokenMap,
  decoding: Decoding = { kind: "greedy" },
): string {
  return generate(prefix, num_preds, model, vocab, decoding).text;
}

/**
 * {@linkcode predict}, also scoring the generated characters under the
 * model (exercise 3 compares decodings by it).
 *
 * @example
 * ```ts
 * const { text, mean_log_prob } = generate("time traveller", 50, model, vocab);
 * ```
 */
export function generate(
  prefix: string,
  num_preds: number,
  model: Model,
  vocab: TokenMap,
  decoding: Decoding = { kind: "greedy" },
): Generation {
  const step = stepper(model.spec, model.params);
  const outputs = [vocab.toIndex(prefix[0])];
  // Warm-up period: only the state matters, the outputs are the prefix itself.
  for (const ch of [...prefix].slice(1)) {
    step(outputs[outputs.length - 1]);
    outputs.push(vocab.toIndex(ch));
  }
  let logProb = 0;
  for (let i = 0; i < num_preds; i++) {
    const logits = step(outputs[outputs.length - 1]);
    const next = decoding.kind === "greedy"
      ? argmax(logits)
      : sampleIndex(logits, decoding.alpha, decoding.rng);
    logProb += logSoftmaxAt(logits, next);
    outputs.push(next);
  }
  return {
    text: outputs.map((i) => vocab.toToken(i)).join(""),
    mean_log_prob: num_preds > 0 ? logProb / num_preds : 0,
  };
}

/**
 * The recurrence for one sequence in plain arithmetic on the CPU, from the
 * state of zeros: each call feeds token x and returns the logits,
 *
 *   h ← φ(x W_xh + h W_hh + b_h),  logits = h W_hq + b_q,
 *
 * where x W_xh is row x of W_xh (one-hot) or W_embed[x] W_xh (embedding).
 * One sequence is a few 512-wide vector–matrix products per character:
 * faster here than a device round trip per character.
 *
 * @example
 * ```ts
 * const step = stepper(spec, await group.values(0));
 * const logits = step(vocab.toIndex("t"));
 * ```
 */
export function stepper(
  spec: RnnSpec,
  params: ParamValues,
): (x: number) => Float64Array {
  const { num_hiddens: H, vocab_size: V } = spec;
  const W_xh = params.W_xh.values, W_hh = params.W_hh.values;
  const b_h = params.b_h.values, W_hq = params.W_hq.values;
  const b_q = params.b_q.values;
  const W_embed = spec.input === "embedding" ? params.W_embed.values : null;
  const E = W_embed ? spec.embed_size : V;
  const phi = spec.activation === "relu"
    ? (a: number) => Math.max(a, 0)
    : Math.tanh;
  let h = new Float64Array(H);
  return (x: number) => {
    const a = Float64Array.from(b_h);
    if (W_embed) {
      for (let e = 0; e < E; e++) {
        const v = W_embed[x * E + e];
        for (let j = 0; j < H; j++) a[j] += v * W_xh[e * H + j];
      }
    } else {
      for (let j = 0; j < H; j++) a[j] += W_xh[x * H + j];
    }
    for (let i = 0; i < H; i++) {
      const v = h[i];
      if (v === 0) continue;
      for (let j = 0; j < H; j++) a[j] += v * W_hh[i * H + j];
    }
    h = a.map(phi);
    const logits = Float64Array.from(b_q);
    for (let i = 0; i < H; i++) {
      for (let q = 0; q < V; q++) logits[q] += h[i] * W_hq[i * V + q];
    }
    return logits;
  };
}

/**
 * Exercise 1, numerically: the one-hot model against an embedding model
 * with the same weights whose embedding is the identity (W_embed = I,
 * embed_size = vocab_size), run over `tokens` as one sequence. One-hot
 * inputs times W_xh pick rows of W_xh, which is what an embedding does, so
 * the logits should agree; returns their largest absolute difference.
 *
 * @example
 * ```ts
 * oneHotAsEmbedding(model, Int32Array.from([3, 1, 4])); // 0
 * ```
 */
export function oneHotAsEmbedding(model: Model, tokens: Int32Array): number {
  const V = model.spec.vocab_size;
  const identity = new Float32Array(V * V);
  for (let v = 0; v < V; v++) identity[v * V + v] = 1;
  const oneHot = stepper(model.spec, model.params);
  const embedded = stepper(
    { ...model.spec, input: "embedding", embed_size: V },
    { ...model.params, W_embed: { shape: [V, V], values: identity } },
  );
  let diff = 0;
  for (const x of tokens) {
    const a = oneHot(x), b = embedded(x);
    for (let q = 0; q < V; q++) diff = Math.max(diff, Math.abs(a[q] - b[q]));
  }
  return diff;
}
