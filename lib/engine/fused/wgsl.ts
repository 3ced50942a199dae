/**
 * What every kernel of the fused engine shares: bindings declared by name
 * and type (the WGSL declarations and the bind group layout come from the
 * same record, so a kernel and its caller cannot disagree on a position),
 * the per-dispatch {@linkcode STEP} values, which carry the sizes, so that
 * one compiled pipeline serves every shape, and the cells: one dispatch
 * covers every cell (model) of a group, the cell being the workgroup's z.
 *
 * Each storage binding `X` holds its cells one after another, and a kernel
 * reads cell `cell`'s part from `X_ = cell · cells.X` on (`cells` is a
 * uniform the dispatch fills in from the buffers' strides); a uniform
 * binding is one cell's (or a shared) value and has no base.
 *
 * @example
 * ```ts
 * const k = kernel("double", { step: uniform("Step"), x: readWrite() }, {
 *   size: 64,
 *   main: "if (g.x < step.n) { x[x_ + g.x] = 2.0 * x[x_ + g.x]; }",
 * });
 * k.bindings.map(([name]) => name); // ["step", "x"]
 * ```
 *
 * @module
 */

/** How a kernel uses a binding. */
export type Access = "uniform" | "read" | "read_write";

/** One binding as its WGSL declares it, e.g. `var<uniform> A: array<vec4f, 4096>`. */
export interface Binding {
  readonly access: Access;
  /** The WGSL type of the variable. */
  readonly type: string;
}

/** A uniform binding of WGSL type `type`. */
export const uniform = (type: string): Binding => ({ access: "uniform", type });
/** A read-only storage binding (an array of vec4f unless said otherwise). */
export const read = (type = "array<vec4f>"): Binding => ({
  access: "read",
  type,
});
/** A writable storage binding (an array of vec4f unless said otherwise). */
export const readWrite = (type = "array<vec4f>"): Binding => ({
  access: "read_write",
  type,
});

/** Bytes of one element of a storage array type (`array<vec4f>`: 16). */
export function elementBytes(type: string): number {
  return /^array<vec4[fu]>$/.test(type) ? 16 : 4;
}

/** A compute kernel: its WGSL and its bindings by name, in binding order. */
export interface Kernel<Name extends string = string> {
  /** Names the pipeline in errors and profiles. */
  readonly label: string;
  readonly code: string;
  /** The declared bindings; the `cells` uniform follows them. */
  readonly bindings: readonly (readonly [Name, Binding])[];
}

/**
 * Bytes of a uniform binding that holds one state slot (A of a step
 * product): WebGPU's default `maxUniformBufferBindingSize`. Such bindings
 * are declared at this size whatever the shape, and bound as full ranges.
 */
export const UNIFORM_BYTES = 65536;

/** A uniform array of one state slot, declared at {@linkcode UNIFORM_BYTES}. */
export const SLOT = `array<vec4f, ${UNIFORM_BYTES / 16}>`;

/**
 * Per-dispatch values. Which ones a kernel reads is its own, and its
 * documentation says so; sizes in vec4s unless said otherwise.
 */
export const STEP = `struct Step {
  t: u32,  // the time step, or a minibatch's slot in stats
  a: u32,  // where A starts (vec4s)
  o: u32,  // the first output row, or where D starts (vec4s)
  n: u32,  // rows (or vec4s) to go through
  M: u32,  // rows of a product
  K: u32,  // its inner width (vec4s)
  N: u32,  // its output width (vec4s)
  K2: u32, // the inner width of a second segment (vec4s)
  s: u32,  // slices in use, of a kernel over several
  _0: u32, _1: u32, _2: u32,
}
`;

/** Unsigned integer fields of {@linkcode STEP}, in order. */
export interface StepValues {
  t?: number;
  a?: number;
  o?: number;
  n?: number;
  M?: number;
  K?: number;
  N?: number;
  K2?: number;
  s?: number;
}

/** The 12 u32 of a {@linkcode STEP} (unset fields 0). */
export function stepWords(v: StepValues): Uint32Array<ArrayBuffer> {
  const { t = 0, a = 0, o = 0, n = 0, M = 0, K = 0, N = 0, K2 = 0, s = 0 } = v;
  return new Uint32Array([t, a, o, n, M, K, N, K2, s, 0, 0, 0]);
}

/** The storage bindings of a kernel: each has a per-cell base. */
export const cellBindings = (k: Kernel): (readonly [string, Binding])[] =>
  k.bindings.filter(([, b]) => b.access !== "uniform");

/** A kernel's code: helper functions before `main`, `main`'s workgroup size and body. */
export interface KernelCode {
  size: number;
  /** WGSL before `main` (helper functions, workgroup variables). */
  prelude?: string;
  /**
   * The body of `main`, with `wg` (workgroup id), `l` (local invocation
   * id), `g` (global invocation id), `cell` (= wg.z) and each storage
   * binding's base `X_` in scope.
   */
  main: string;
}

/**
 * A kernel whose bindings are declared, in the record's order, before its
 * code, with the `Step` struct in scope, then the `cells` uniform: its
 * fields name each storage binding's elements per cell.
 */
export function kernel<const B extends Record<string, Binding>>(
  label: string,
  bindings: B,
  code: KernelCode,
): Kernel<Extract<keyof B, string>> {
  const entries = Object.entries(bindings) as [
    Extract<keyof B, string>,
    Binding,
  ][];
  const declarations = entries.map(([name, b], i) =>
    `@group(0) @binding(${i}) var<${
      b.access === "uniform" ? "uniform" : `storage, ${b.access}`
    }> ${name}: ${b.type};`
  ).join("\n");
  const stored = entries.filter(([, b]) => b.access !== "uniform");
  const cells = `struct Cells {\n${
    stored.map(([name]) => `  ${name}: u32,\n`).join("")
  }}
@group(0) @binding(${entries.length}) var<uniform> cells: Cells;`;
  const bases = stored.map(([name]) =>
    `  let ${name}_ = cell * cells.${name};\n`
  )
    .join("");
  return {
    label,
    code: `${STEP}${declarations}
${cells}
${code.prelude ?? ""}
@compute @workgroup_size(${code.size})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u, @builtin(global_invocation_id) g: vec3u) {
  let cell = wg.z;
${bases}${code.main}
}`,
    bindings: entries,
  };
}
