/**
 * What every kernel of the fused engine shares: bindings declared by name
 * and type (the WGSL declarations and the bind group layout come from the
 * same record, so a kernel and its caller cannot disagree on a position),
 * and the per-dispatch {@linkcode STEP} values, which carry the sizes, so
 * that one compiled pipeline serves every shape.
 *
 * @example
 * ```ts
 * const k = kernel("double", { step: uniform("Step"), x: readWrite() }, `
 * @compute @workgroup_size(64)
 * fn main(@builtin(global_invocation_id) g: vec3u) {
 *   if (g.x < step.n) { x[g.x] = 2.0 * x[g.x]; }
 * }`);
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

/** A compute kernel: its WGSL and its bindings by name, in binding order. */
export interface Kernel<Name extends string = string> {
  /** Names the pipeline in errors and profiles. */
  readonly label: string;
  readonly code: string;
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

/**
 * A kernel whose bindings are declared, in the record's order, before
 * `body` (which defines `main`), with the `Step` struct in scope.
 */
export function kernel<const B extends Record<string, Binding>>(
  label: string,
  bindings: B,
  body: string,
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
  return {
    label,
    code: `${STEP}${declarations}\n${body}`,
    bindings: entries,
  };
}
