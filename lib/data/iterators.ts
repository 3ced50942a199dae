/**
 * d2l's minibatch iterators over a token corpus (`seq_data_iter_random`,
 * `seq_data_iter_sequential`), driven by a seeded {@linkcode Rng}.
 *
 * @module
 */
import type { Rng } from "./prng.ts";

/** One minibatch: `X` and `Y` are (batch_size, num_steps), row-major; Y is X shifted by one token. */
export interface Minibatch {
  /** Input tokens, (batch_size, num_steps) row-major. */
  X: Int32Array;
  /** Target tokens: X shifted by one. */
  Y: Int32Array;
  /** Rows (subsequences). */
  batch_size: number;
  /** Time steps per row. */
  num_steps: number;
}

/** How minibatches are drawn: the chapter's two strategies. */
export type Sampling = "sequential" | "random";

/**
 * Random sampling: drop a random offset in [0, num_steps − 1], cut the rest
 * into subsequences of `num_steps`, shuffle them, and deal them out
 * `batch_size` at a time. Neighbouring minibatches are not adjacent in text.
 *
 * @example
 * ```ts
 * const corpus = Int32Array.from({ length: 35 }, (_, i) => i);
 * for (const { X, Y } of seqDataIterRandom(corpus, 2, 5, makeRng(0))) { X; Y; }
 * ```
 */
export function* seqDataIterRandom(
  corpus: Int32Array,
  batch_size: number,
  num_steps: number,
  rng: Rng,
): Generator<Minibatch> {
  const data = corpus.subarray(rng.randint(0, num_steps - 1));
  // Subtract 1 because Y needs the token after each X.
  const num_subseqs = Math.floor((data.length - 1) / num_steps);
  const initial_indices = rng.shuffle(
    Array.from({ length: num_subseqs }, (_, i) => i * num_steps),
  );
  const num_batches = Math.floor(num_subseqs / batch_size);
  for (let i = 0; i < batch_size * num_batches; i += batch_size) {
    const X = new Int32Array(batch_size * num_steps);
    const Y = new Int32Array(batch_size * num_steps);
    for (let b = 0; b < batch_size; b++) {
      const j = initial_indices[i + b];
      X.set(data.subarray(j, j + num_steps), b * num_steps);
      Y.set(data.subarray(j + 1, j + 1 + num_steps), b * num_steps);
    }
    yield { X, Y, batch_size, num_steps };
  }
}

/**
 * Sequential partitioning: drop a random offset in [0, num_steps], lay the
 * rest out as `batch_size` contiguous streams, and walk them `num_steps` at a
 * time, so row b of one minibatch continues row b of the previous one.
 *
 * @example
 * ```ts
 * const corpus = Int32Array.from({ length: 35 }, (_, i) => i);
 * for (const { X, Y } of seqDataIterSequential(corpus, 2, 5, makeRng(0))) { X; Y; }
 * ```
 */
export function* seqDataIterSequential(
  corpus: Int32Array,
  batch_size: number,
  num_steps: number,
  rng: Rng,
  offset: number = rng.randint(0, num_steps),
): Generator<Minibatch> {
  const num_tokens = Math.floor((corpus.length - offset - 1) / batch_size) *
    batch_size;
  const Xs = corpus.subarray(offset, offset + num_tokens);
  const Ys = corpus.subarray(offset + 1, offset + 1 + num_tokens);
  const cols = num_tokens / batch_size;
  const num_batches = Math.floor(cols / num_steps);
  for (let i = 0; i < num_steps * num_batches; i += num_steps) {
    const X = new Int32Array(batch_size * num_steps);
    const Y = new Int32Array(batch_size * num_steps);
    for (let b = 0; b < batch_size; b++) {
      X.set(Xs.subarray(b * cols + i, b * cols + i + num_steps), b * num_steps);
      Y.set(Ys.subarray(b * cols + i, b * cols + i + num_steps), b * num_steps);
    }
    yield { X, Y, batch_size, num_steps };
  }
}

/**
 * d2l's `SeqDataLoader` choice: the iterator for a sampling strategy.
 *
 * @example
 * ```ts
 * const batches = [...dataIter("sequential", corpus, 32, 35, makeRng(0))];
 * ```
 */
export function dataIter(
  sampling: Sampling,
  corpus: Int32Array,
  batch_size: number,
  num_steps: number,
  rng: Rng,
): Generator<Minibatch> {
  return sampling === "random"
    ? seqDataIterRandom(corpus, batch_size, num_steps, rng)
    : seqDataIterSequential(corpus, batch_size, num_steps, rng);
}
