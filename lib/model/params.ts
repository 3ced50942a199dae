/**
 * The model's parameters as plain arrays: d2l's `get_params` and the shapes
 * it fills, with no tfjs, so that any engine (and a browser) can start from
 * the same values.
 *
 * @module
 */
import type { Rng } from "../data/prng.ts";

/** Hidden-layer nonlinearity φ in H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h). */
export type Activation = "tanh" | "relu";
/** How a token enters the network: the chapter's one-hot vector, or a learnable embedding (exercise 2). */
export type InputMode = "one_hot" | "embedding";

/** The model's shape and variant. */
export interface RnnSpec {
  /** Tokens in the vocabulary, V. */
  vocab_size: number;
  /** Hidden units, H. */
  num_hiddens: number;
  /** The hidden layer's nonlinearity. */
  activation: Activation;
  /** One-hot inputs (the chapter's) or a learnt embedding. */
  input: InputMode;
  /** Embedding width; used only when `input` is `"embedding"`. */
  embed_size: number;
}

/** Parameter values by d2l name, with their shapes. */
export type ParamValues = Record<
  string,
  { shape: number[]; values: Float32Array }
>;

/**
 * d2l's `get_params`: W_xh (V×H), W_hh (H×H), W_hq (H×V) drawn from
 * N(0, 0.01²), b_h and b_q zero. With `input: "embedding"`, W_embed (V×E)
 * comes first, drawn from N(0, 1) like PyTorch's `nn.Embedding`, and W_xh is
 * E×H. Values come from `rng`, so they do not depend on the backend.
 *
 * @example
 * ```ts
 * const p = get_params({ vocab_size: 28, num_hiddens: 512, activation: "tanh", input: "one_hot", embed_size: 0 }, makeRng(0));
 * p.W_xh.shape; // [28, 512]
 * ```
 */
export function get_params(spec: RnnSpec, rng: Rng): ParamValues {
  const { vocab_size: V, num_hiddens: H, embed_size: E } = spec;
  const normal = (rows: number, cols: number, std: number) => ({
    shape: [rows, cols],
    values: Float32Array.from(
      { length: rows * cols },
      () => rng.normal() * std,
    ),
  });
  const zeros = (cols: number) => ({
    shape: [cols],
    values: new Float32Array(cols),
  });
  const embedding = spec.input === "embedding";
  return {
    ...(embedding ? { W_embed: normal(V, E, 1) } : {}),
    W_xh: normal(embedding ? E : V, H, 0.01),
    W_hh: normal(H, H, 0.01),
    b_h: zeros(H),
    W_hq: normal(H, V, 0.01),
    b_q: zeros(V),
  };
}

/**
 * The shape of each parameter {@linkcode get_params} makes for `spec`, by
 * name: what a stored set of weights must have to be this model's.
 *
 * @example
 * ```ts
 * paramShapes({ vocab_size: 28, num_hiddens: 512, activation: "tanh", input: "one_hot", embed_size: 0 }).W_hh; // [512, 512]
 * ```
 */
export function paramShapes(spec: RnnSpec): Record<string, number[]> {
  const { vocab_size: V, num_hiddens: H, embed_size: E } = spec;
  const embedding = spec.input === "embedding";
  return {
    ...(embedding ? { W_embed: [V, E] } : {}),
    W_xh: [embedding ? E : V, H],
    W_hh: [H, H],
    b_h: [H],
    W_hq: [H, V],
    b_q: [V],
  };
}
