/**
 * A minibatch's tokens as the fused engine's dispatches bind them: per
 * minibatch, per cell, one block of four arrays (a typed layout,
 * {@linkcode tokenSections}), the cells' blocks one after another so that
 * a minibatch's arrays for all cells are one binding each.
 *
 * @module
 */
import { timeMajor } from "../group.ts";
import type { Resource } from "./gpu.ts";
import { Sections } from "./layout.ts";

/** Where one minibatch's token arrays lie in the `tokens` buffer (cell 0's, the others' following at the buffer's stride). */
export interface Tokens {
  /** The inputs of every step the backward pass reaches, time-major. */
  x: Resource;
  /** The targets of the loss window, time-major. */
  y: Resource;
  /** Rows grouped by token, for the lookups' gradient. */
  order: Resource;
  /** Where each token's rows start in `order`. */
  start: Resource;
}

/** The minibatches one minibatch's backward pass reaches (`xs`, one unless `detach: false`) and the last one's targets. */
export type Sequence = { xs: Int32Array[]; Y: Int32Array };

/**
 * The token arrays of one cell's minibatch, as its dispatches bind them:
 * the inputs of the L steps it reaches (time-major), the targets of the
 * last T, the L·B rows grouped by token (`order`) and where each of the V
 * tokens' rows start (`start`).
 */
export const tokenSections = (
  B: number,
  L: number,
  T: number,
  V: number,
): Sections<"x" | "y" | "order" | "start"> =>
  new Sections({ x: L * B, y: T * B, order: L * B, start: V + 1 });

/** Writes a sequence's tokens into its block (laid out as `s`). */
export function writeTokens(
  block: Uint32Array,
  s: Sections<"x" | "y" | "order" | "start">,
  seq: Sequence,
  B: number,
  T: number,
) {
  const part = (name: "x" | "y" | "order" | "start") =>
    block.subarray(s.at[name], s.at[name] + s.length[name]);
  const x = part("x"), y = part("y"), order = part("order");
  const start = part("start");
  seq.xs.forEach((X, k) => x.set(timeMajor(X, B, T), k * T * B));
  y.set(timeMajor(seq.Y, B, T));
  // Counting sort of rows by token: dW_xh[v] sums token v's rows only.
  const V = start.length - 1;
  for (const v of x) start[v + 1]++;
  for (let v = 0; v < V; v++) start[v + 1] += start[v];
  const next = start.slice(0, V);
  x.forEach((v, r) => order[next[v]++] = r);
}

/**
 * The tokens of `minibatches` minibatches of `C` cells, packed: per
 * minibatch, per cell, the sequence of minibatches its backward pass
 * reaches, the last one's targets and its rows grouped by token (a cell
 * without one, null, gets zeros); and where cell 0's arrays of each
 * minibatch lie in `buffer` (the others follow, `stride` words apart).
 */
export function packTokens(
  shape: { C: number; B: number; T: number; V: number },
  minibatches: number,
  seqOf: (cell: number, i: number) => Sequence | null,
): {
  data: Uint32Array<ArrayBuffer>;
  stride: number;
  ranges: (buffer: GPUBuffer) => Tokens[];
} {
  const { C, B, T, V } = shape;
  const seqs = Array.from(
    { length: minibatches },
    (_, i) => Array.from({ length: C }, (_, c) => seqOf(c, i)),
  );
  // A group's cells reach back one minibatch; a group of one, any number.
  const blocks = seqs.map((row) =>
    tokenSections(B, (row[0]?.xs.length ?? 1) * T, T, V)
  );
  const stride = blocks[0].words;
  const data = new Uint32Array(blocks.reduce((a, s) => a + C * s.words, 0));
  const firsts: number[] = [];
  let first = 0;
  seqs.forEach((row, i) => {
    const s = blocks[i];
    firsts.push(first);
    row.forEach((seq, c) => {
      const at = first + c * s.words;
      if (seq) writeTokens(data.subarray(at, at + s.words), s, seq, B, T);
    });
    first += C * s.words;
  });
  const ranges = (buffer: GPUBuffer) =>
    blocks.map((s, i) => {
      const range = (name: keyof typeof s.at): Resource => ({
        buffer,
        offset: (firsts[i] + s.at[name]) * 4,
        size: ((C - 1) * stride + s.length[name]) * 4,
      });
      return {
        x: range("x"),
        y: range("y"),
        order: range("order"),
        start: range("start"),
      };
    });
  return { data, stride, ranges };
}
