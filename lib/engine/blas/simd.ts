/**
 * The BLAS engine's one elementwise kernel that costs: the forward step's
 * h ← tanh(h + p) over every hidden unit, four floats at a time with
 * WebAssembly SIMD (JavaScript's scalar loop took about as long as the
 * step's matrix product). The module is a few dozen bytes, assembled here
 * from the function below, so there is no binary to trust.
 *
 * tanh comes from Lambert's continued fraction,
 *
 *     tanh x = x / (1 + x²/(3 + x²/(5 + x²/(7 + …)))),
 *
 * cut after the term 2·DEPTH + 1 and written as x·P(x²)/Q(x²) (Horner, one
 * division); on |x| ≤ 9.1 (beyond, tanh is ±1 in float32, and x is clamped
 * there) its relative error is below 3e-10, so float32 rounding dominates
 * (within 8 float32 steps of Math.tanh; the result is clamped to ±1).
 *
 * @example
 * ```ts
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const tanhAdd = tanhKernel(memory);
 * const h = new Float32Array(memory.buffer, 0, 8), p = new Float32Array(memory.buffer, 32, 8);
 * tanhAdd(h.byteOffset, p.byteOffset, 8); // h = tanh(h + p)
 * ```
 *
 * @module
 */

/** Terms of the continued fraction kept. */
const DEPTH = 14;

/**
 * P and Q (coefficients of y = x², lowest first) with tanh x ≈ x·P(y)/Q(y):
 * the continued fraction's convergent, folded from its last term up
 * (N/D ← (2k + 1) + y·D/N), all coefficients integers.
 */
export function lambert(depth = DEPTH): { P: number[]; Q: number[] } {
  let N = [2 * depth + 1], D = [1];
  for (let k = depth - 1; k >= 0; k--) {
    const next = Array(Math.max(N.length, D.length + 1)).fill(0);
    N.forEach((c, i) => next[i] += (2 * k + 1) * c);
    D.forEach((c, i) => next[i + 1] += c);
    [N, D] = [next, N];
  }
  return { P: D, Q: N }; // x / (N/D)
}

/** Where float32's tanh reaches ±1. */
const CLAMP = 9.1;

/**
 * The kernel as WebAssembly text; {@linkcode assemble} emits these bytes.
 *
 *     (func (export "tanh_add") (param $h i32) (param $p i32) (param $n i32)
 *       (local $end i32) (local $x v128) (local $y v128) (local $P v128) (local $Q v128)
 *       (local.set $end (i32.add $h (n·4 bytes)))
 *       (block (loop
 *         (br_if 1 (i32.ge_u $h $end))
 *         (local.set $x (f32x4.min (f32x4.max (f32x4.add (v128.load $h) (v128.load $p)) −CLAMP) CLAMP))
 *         (local.set $y (f32x4.mul $x $x))
 *         (local.set $P (P₇)) (local.set $P (f32x4.add (f32x4.mul $P $y) Pᵢ)) … for i = 6…0, likewise $Q
 *         (v128.store $h (clamp to ±1 (f32x4.div (f32x4.mul $x $P) $Q)))
 *         (local.set $h (+16)) (local.set $p (+16)) (br 0))))
 *
 * `n` is rounded up to a multiple of 4: the arrays need up to 3 floats of
 * room past their end.
 */
function assemble(): Uint8Array<ArrayBuffer> {
  const { P, Q } = lambert();
  const u = (n: number): number[] => { // unsigned LEB128
    const out = [];
    do {
      out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
      n >>>= 7;
    } while (n);
    return out;
  };
  const vec = (items: number[][]) => [...u(items.length), ...items.flat()];
  const section = (
    id: number,
    body: number[],
  ) => [id, ...u(body.length), ...body];
  const str = (s: string) =>
    vec([...new TextEncoder().encode(s)].map((b) => [b]));
  const I32 = 0x7f, V128 = 0x7b;
  const simd = (op: number) => [0xfd, ...u(op)];
  const [load, store, add, mul, div, min, max] = [
    simd(0x00).concat(4, 0), // v128.load align 2^4, offset 0
    simd(0x0b).concat(4, 0),
    simd(0xe4),
    simd(0xe6),
    simd(0xe7),
    simd(0xe8),
    simd(0xe9),
  ];
  const splat = (x: number) => [
    ...simd(0x0c),
    ...Array(4).fill([...new Uint8Array(Float32Array.of(x).buffer)]).flat(),
  ];
  const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i];
  const [h, p, n, end, x, y, Pl, Ql] = [0, 1, 2, 3, 4, 5, 6, 7];
  const horner = (c: number[], local: number) => [
    ...splat(c[c.length - 1]),
    ...set(local),
    ...c.slice(0, -1).reverse().flatMap((ci) => [
      ...get(local),
      ...get(y),
      ...mul,
      ...splat(ci),
      ...add,
      ...set(local),
    ]),
  ];
  const next = (i: number) => [...get(i), 0x41, 16, 0x6a, ...set(i)];
  const body = [
    ...vec([[1, I32], [4, V128]]), // locals: $end, $x $y $P $Q
    ...get(h),
    ...get(n),
    0x41,
    3,
    0x6a,
    0x41,
    2,
    0x76,
    0x41,
    4,
    0x74,
    0x6a,
    ...set(end), // end = h + ((n + 3) >> 2) << 4
    0x02,
    0x40,
    0x03,
    0x40, // block, loop
    ...get(h),
    ...get(end),
    0x4f,
    0x0d,
    1, // br_if 1 (h ≥ end)
    ...get(h),
    ...load,
    ...get(p),
    ...load,
    ...add,
    ...splat(-CLAMP),
    ...max,
    ...splat(CLAMP),
    ...min,
    ...set(x),
    ...get(x),
    ...get(x),
    ...mul,
    ...set(y),
    ...horner(P, Pl),
    ...horner(Q, Ql),
    ...get(h),
    ...get(x),
    ...get(Pl),
    ...mul,
    ...get(Ql),
    ...div,
    ...splat(-1),
    ...max,
    ...splat(1),
    ...min,
    ...store,
    ...next(h),
    ...next(p),
    0x0c,
    0,
    0x0b,
    0x0b, // br 0, end loop, end block
    0x0b,
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), 0]])),
    ...section(2, vec([[...str("env"), ...str("memory"), 0x02, 0x00, 1]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str("tanh_add"), 0x00, 0]])),
    ...section(10, vec([[...u(body.length), ...body]])),
  ]);
}

/** h[i] ← tanh(h[i] + p[i]) for n floats at byte offsets h and p of the memory. */
export type TanhAdd = (h: number, p: number, n: number) => void;

let compiled: WebAssembly.Module | undefined;

/** The kernel instantiated over `memory` (compiled once; the module is small enough to compile synchronously). */
export function tanhKernel(memory: WebAssembly.Memory): TanhAdd {
  compiled ??= new WebAssembly.Module(assemble());
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  return instance.exports.tanh_add as TanhAdd;
}
