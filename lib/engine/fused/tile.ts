/**
 * The register-blocked tiles of the fused engine's matrix products, as
 * WGSL text. A workgroup computes `rb` rows × `lanes`·`cv` vec4 columns of
 * the result; each invocation keeps `rb` × `cv` vec4 accumulators. The
 * tile is written out (its accumulators are registers, not an array), its
 * loops over K and over rows are loops with bounds from `step`, so the
 * compiler has little to unroll and one pipeline serves every size.
 *
 * Rows come from the workgroup id, the same in every invocation, so A's
 * loads have one address for all lanes (on llvmpipe, a uniform buffer
 * then loads once and broadcasts); columns come from the invocation.
 *
 * Each accumulator sums its products in a fixed order (K ascending, and
 * within a vec4 of K the lanes w, z, y, x innermost first), which the
 * engine's numbers depend on: keep it when changing a tile.
 *
 * @module
 */

/** Invocations per workgroup of the matrix kernels on llvmpipe: one SIMD register of 8 floats. */
export const LANES = 8;

/** The shape of a tile. */
export interface Tile {
  /** Rows per workgroup. */
  rb: number;
  /** vec4 columns per invocation. */
  cv: number;
  /** Invocations per workgroup. */
  lanes: number;
}

/**
 * One K range of a product C = Σ_segments A·W: row `row` of A at vec4
 * column k is `load(row)`, W is the storage array named `W` (this cell's
 * part from `W_` on), its width in vec4s is `K` (a WGSL expression).
 */
export interface Segment {
  K: string;
  load: (row: string) => string;
  W: string;
}

/** Workgroups of a product of M rows and N floats of columns. */
export const productGroups = (
  t: Tile,
  M: number,
  N: number,
): [number, number] => [N / 4 / (t.lanes * t.cv), Math.ceil(M / t.rb)];

/** The WGSL of `(i, c)` for every accumulator of a tile, concatenated. */
const each = (t: Tile, f: (i: number, c: number) => string) => {
  let out = "";
  for (let i = 0; i < t.rb; i++) for (let c = 0; c < t.cv; c++) out += f(i, c);
  return out;
};

/**
 * A product tile, C = Σ A·W over `segments`, W being K × N (`"nn"`: rows
 * of W are contiguous in N) or N × K (`"nt"`, W used transposed). Expects
 * `r0` (the tile's first row), `M` (rows; rows past it repeat the last
 * one and are not stored) and `NV` (vec4 columns of C) in scope, and
 * stores each raw sum with `store(row, col, acc)`, `row` counted from
 * `rowBase`. Defines `col0`, the invocation's first column.
 */
export function productTile(
  t: Tile,
  layout: "nn" | "nt",
  segments: Segment[],
  store: (row: string, col: string, acc: string) => string,
  rowBase = "",
): string {
  const { cv, lanes } = t;
  const col = (c: number) => `col0 + ${c * lanes}u`;
  let loops = "";
  for (const { K, load, W } of segments) {
    let body = "";
    for (let c = 0; c < cv; c++) {
      for (let m = 0; m < 4; m++) {
        body += layout === "nn"
          ? `    let w${m}_${c} = ${W}[${W}_ + (k * 4u + ${m}u) * NV + ${
            col(c)
          }];\n`
          : `    let w${m}_${c} = ${W}[${W}_ + ((${
            col(c)
          }) * 4u + ${m}u) * ${K} + k];\n`;
      }
    }
    for (let i = 0; i < t.rb; i++) {
      body += `    let a${i} = ${load(`min(r0 + ${i}u, M - 1u)`)};\n`;
      for (let c = 0; c < cv; c++) {
        const acc = `acc${i}_${c}`;
        body += layout === "nn"
          ? `    ${acc} = fma(vec4f(a${i}.x), w0_${c}, fma(vec4f(a${i}.y), w1_${c}, fma(vec4f(a${i}.z), w2_${c}, fma(vec4f(a${i}.w), w3_${c}, ${acc}))));\n`
          : `    ${acc} += vec4f(dot(a${i}, w0_${c}), dot(a${i}, w1_${c}), dot(a${i}, w2_${c}), dot(a${i}, w3_${c}));\n`;
      }
    }
    loops += `  for (var k = 0u; k < ${K}; k++) {\n${body}  }\n`;
  }
  return `  let col0 = wg.x * ${lanes * cv}u + l.x;
${each(t, (i, c) => `  var acc${i}_${c} = vec4f();\n`)}${loops}${
    each(t, (i, c) =>
      `  if (r0 + ${i}u < M) { ${
        store(`${rowBase}r0 + ${i}u`, col(c), `acc${i}_${c}`)
      } }\n`)
  }`;
}

/**
 * A loop over the tile's stored outputs, rows r0… below M and its
 * columns, running `body` with `row` (counted from `rowBase`) and `col`
 * in scope: the epilogue of a product, which reads back the raw sums
 * (one loop instead of a copy of the epilogue per accumulator).
 */
export function overTile(t: Tile, body: string, rowBase = ""): string {
  return `  for (var i = 0u; i < ${t.rb}u; i++) {
    if (r0 + i >= M) { break; }
    let row = ${rowBase}r0 + i;
    for (var c = 0u; c < ${t.cv}u; c++) {
      let col = col0 + c * ${t.lanes}u;
      ${body}
    }
  }
`;
}

/**
 * One range of rows of a weight gradient G = Σ_r A[r]ᵀ D[r]: `rows` rows
 * (a WGSL expression), row r of A at vec4 `k4 + q` is `A(\`r * K + k4 + q\`)`
 * and row r of D starts at vec4 `(${D}) * NV` of this cell's D.
 */
export interface RowRange {
  rows: string;
  A: (index: string) => string;
  D: string;
  /** Only when this WGSL condition holds (a range that may be unused). */
  when?: string;
}

/**
 * A weight-gradient tile: each workgroup owns `rb` rows of G (k0…, a
 * multiple of 4), each invocation `cv` vec4 columns; G[k, j] = Σ_r A[r, k]
 * · D[r, j] over the ranges in order, then `G[…] op acc`. Expects `K` (A's
 * width in vec4s) and `NV` in scope.
 */
export function gradientTile(
  t: Tile,
  ranges: RowRange[],
  op: "=" | "+=",
): string {
  const { rb, cv, lanes } = t;
  const col = (c: number) => `col0 + ${c * lanes}u`;
  let loops = "";
  for (const range of ranges) {
    let body = "";
    for (let c = 0; c < cv; c++) {
      body += `    let d${c} = D[D_ + (${range.D}) * NV + ${col(c)}];\n`;
    }
    for (let q = 0; q < rb / 4; q++) {
      body += `    let a${q} = ${range.A(`r * K + k4 + ${q}u`)};\n`;
      for (let m = 0; m < 4; m++) {
        for (let c = 0; c < cv; c++) {
          const acc = `acc${4 * q + m}_${c}`;
          body += `    ${acc} = fma(vec4f(a${q}[${m}]), d${c}, ${acc});\n`;
        }
      }
    }
    const loop = `  for (var r = 0u; r < ${range.rows}; r++) {\n${body}  }\n`;
    loops += range.when ? `  if (${range.when}) {\n${loop}  }\n` : loop;
  }
  return `  let k0 = wg.y * ${rb}u;
  let k4 = k0 / 4u;
  let col0 = wg.x * ${lanes * cv}u + l.x;
${each(t, (i, c) => `  var acc${i}_${c} = vec4f();\n`)}${loops}${
    each(
      t,
      (i, c) => `  G[G_ + (k0 + ${i}u) * NV + ${col(c)}] ${op} acc${i}_${c};\n`,
    )
  }`;
}
