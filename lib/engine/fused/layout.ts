/**
 * The fused engine's packed parameters: every parameter in one buffer
 * (and every gradient in another of the same layout), each region 256-byte
 * aligned for binding offsets, widths padded to multiples of
 * {@linkcode PAD} with zeros that stay zero. One buffer makes the gradient
 * norm and the SGD update one dispatch each.
 *
 * The layout fixes the order in which the norm sums the gradients, so
 * it is part of the engine's arithmetic: keep it.
 *
 * @module
 */
import type { InputMode, ParamValues } from "../../model/params.ts";
import { pad } from "./kernels.ts";

/** One parameter's place in the packed buffer. */
export interface Region {
  /** First float. */
  offset: number;
  rows: number;
  cols: number;
  /** Padded row length. */
  stride: number;
  /** Padded rows (zeros past `rows`). */
  prows: number;
}

/** The sizes a layout depends on. */
export interface LayoutSpec {
  vocab_size: number;
  num_hiddens: number;
  input: InputMode;
  embed_size: number;
}

/**
 * Where each parameter lies in the packed buffer.
 *
 * @example
 * ```ts
 * const layout = new ParamLayout({ vocab_size: 28, num_hiddens: 512, input: "one_hot", embed_size: 32 });
 * layout.regions.W_hh.offset; // 14336 (after W_xh's 28 rows of 512)
 * ```
 */
export class ParamLayout {
  readonly regions: Record<string, Region> = {};
  /** Floats in the buffer (a multiple of 64). */
  readonly floats: number;

  constructor(spec: LayoutSpec) {
    const { vocab_size: V, num_hiddens: H, embed_size: E } = spec;
    const embedding = spec.input === "embedding";
    let offset = 0;
    const region = (
      name: string,
      rows: number,
      cols: number,
      prows: number,
    ) => {
      const stride = pad(cols);
      this.regions[name] = { offset, rows, cols, stride, prows };
      offset += Math.ceil((prows * stride) / 64) * 64;
    };
    if (embedding) region("W_embed", V, E, V);
    region("W_xh", embedding ? E : V, H, embedding ? pad(E) : V);
    region("W_hh", H, H, pad(H));
    region("b_h", 1, H, 1);
    region("W_hq", H, V, pad(H));
    region("b_q", 1, V, 1);
    this.floats = offset;
  }

  /** Byte range of parameter `name` in a packed buffer. */
  bytes(name: string): { offset: number; size: number } {
    const r = this.regions[name];
    return { offset: r.offset * 4, size: r.prows * r.stride * 4 };
  }

  /** Parameters in the packed, padded layout. */
  pack(params: ParamValues): Float32Array<ArrayBuffer> {
    const out = new Float32Array(this.floats);
    for (const [name, r] of Object.entries(this.regions)) {
      const src = params[name].values;
      for (let i = 0; i < r.rows; i++) {
        out.set(
          src.subarray(i * r.cols, (i + 1) * r.cols),
          r.offset + i * r.stride,
        );
      }
    }
    return out;
  }

  /** The packed layout back to d2l shapes. */
  unpack(packed: Float32Array): ParamValues {
    const out: ParamValues = {};
    for (const [name, r] of Object.entries(this.regions)) {
      const values = new Float32Array(r.rows * r.cols);
      for (let i = 0; i < r.rows; i++) {
        const at = r.offset + i * r.stride;
        values.set(packed.subarray(at, at + r.cols), i * r.cols);
      }
      const vector = name.startsWith("b_");
      out[name] = { shape: vector ? [r.cols] : [r.rows, r.cols], values };
    }
    return out;
  }
}

/**
 * A buffer of steps, each B rows of `width` vec4s (states, their
 * gradients, logits): where step t's rows start.
 *
 * @example
 * ```ts
 * const hs = new StepRows(32, 128); // states of 32 rows of 512 floats
 * hs.vec4(3); // 12288: slot 3 starts there
 * ```
 */
export class StepRows {
  /** Rows of a step, B. */
  readonly B: number;
  /** vec4s of a row. */
  readonly width: number;

  /** Steps of `B` rows of `width` vec4s. */
  constructor(B: number, width: number) {
    this.B = B;
    this.width = width;
  }

  /** The first row of step `t`. */
  row(t: number): number {
    return t * this.B;
  }

  /** Where step `t` starts, in vec4s. */
  vec4(t: number): number {
    return t * this.B * this.width;
  }

  /** Where step `t` starts, in floats. */
  floats(t: number): number {
    return 4 * this.vec4(t);
  }
}

/**
 * Arrays laid out one after another in one buffer, each starting on a
 * 256-byte boundary (a binding's offset must): a typed description of
 * where each lies, in 4-byte words.
 *
 * @example
 * ```ts
 * const s = new Sections({ x: 1120, y: 1120, order: 1120, start: 29 });
 * s.at.y; // 1152 (x's 1120 words rounded up to 64)
 * s.words; // 3456
 * ```
 */
export class Sections<N extends string> {
  /** Where each array starts, in words. */
  readonly at: Record<N, number>;
  /** Each array's length, in words. */
  readonly length: Record<N, number>;
  /** Words of the whole. */
  readonly words: number;

  /** Arrays of these lengths (words), in this order. */
  constructor(lengths: Record<N, number>) {
    const align = (n: number) => Math.ceil(n / 64) * 64;
    const at = {} as Record<N, number>;
    let words = 0;
    for (const [name, n] of Object.entries(lengths) as [N, number][]) {
      at[name] = words;
      words += align(n);
    }
    this.at = at;
    this.length = lengths;
    this.words = words;
  }
}
