/**
 * How a kernel of the fused engine is assembled from its WGSL file
 * (`wgsl/*.wgsl`): the named constants it takes are defined before it,
 * after what every kernel shares (`wgsl/common.wgsl`); its resource
 * variables get their bindings in the order the file declares them; and
 * two markers that only spell out what the file says are expanded:
 *
 * - `// unroll` before `for (var i = 0u; i < BOUND; i++)`, BOUND a
 *   constant: the loop is written out, one block per i;
 * - `// registers` before `var acc: array<…>;`: the array becomes one
 *   variable per element (every index is a constant once the loops are
 *   unrolled), each set to zero where it is declared (WGSL's `var x: T;`
 *   is zero each time it is reached, but Deno's WGSL compiler makes it
 *   zero once per invocation: in a loop it would keep the last value).
 *
 * A register tile written as loops over arrays runs 1.6–2.3× slower on
 * llvmpipe, which unrolls neither; expanded, it is the same code as one
 * written out by hand (docs/performance.md). Everything else is the file
 * as written: `deno task wgsl` prints any kernel as compiled.
 *
 * The TypeScript side refers to bindings by name only, and fills a
 * uniform struct (a kernel's `sizes`, each cell's `Hyper`) from named
 * values by the struct the WGSL declares.
 *
 * @example
 * ```ts
 * const k = kernel("copy", copySource, { WIDE: 64 });
 * k.bindings.map((b) => b.name); // ["sizes", "src", "out", "cells"]
 * ```
 *
 * @module
 */
import common from "./wgsl/common.wgsl" with { type: "text" };

/** How a kernel uses a binding: a buffer's, or a texture it reads texels of. */
export type Access = "uniform" | "read" | "read_write" | "texture";

/** A field of a WGSL struct: its name and scalar type. */
export interface Field {
  name: string;
  type: "u32" | "i32" | "f32";
}

/** A WGSL struct of 4-byte scalars, as a uniform holds it. */
export interface Struct {
  name: string;
  fields: Field[];
}

/** One binding as the WGSL declares it, e.g. `var<storage, read> W: array<vec4f>` or `var W_tex: texture_2d_array<f32>`. */
export interface Binding {
  name: string;
  access: Access;
  /** The WGSL type of the variable. */
  type: string;
  /** Its struct, for a uniform whose type is one (`sizes: Sizes`, `cells: Cells`). */
  struct?: Struct;
}

/** A compute kernel: its WGSL as compiled and its bindings, in binding order. */
export interface Kernel {
  /** Names the pipeline in errors and profiles, e.g. `forward:16x4x8`. */
  readonly label: string;
  readonly code: string;
  readonly bindings: readonly Binding[];
}

/** A named constant's value: a whole number (u32), a float (f32) or a boolean. */
export type Constant = number | boolean | { f32: number };

/** The WGSL of a constant's value. */
function literal(v: Constant): string {
  if (typeof v === "boolean") return String(v);
  if (typeof v === "object") {
    return Number.isInteger(v.f32) ? `${v.f32}.0` : String(v.f32);
  }
  if (!Number.isInteger(v) || v < 0) {
    throw new Error(`a u32 constant must be a whole number ≥ 0 (got ${v})`);
  }
  return `${v}u`;
}

/**
 * Evaluates an expression of whole numbers, named constants, + − * / and
 * parentheses (a loop bound, an index once unrolled), or returns null.
 */
export function evaluate(
  expr: string,
  constants: Record<string, Constant> = {},
): number | null {
  const tokens = expr.match(/\d+u?|[A-Za-z_]\w*|[-+*/()]|\S/g) ?? [];
  let at = 0;
  const value = (t: string): number | null => {
    if (/^\d+u?$/.test(t)) return Number(t.replace(/u$/, ""));
    const c = constants[t];
    return typeof c === "number" ? c : null;
  };
  const primary = (): number | null => {
    const t = tokens[at++];
    if (t === "(") {
      const v = sum();
      return tokens[at++] === ")" ? v : null;
    }
    return t === undefined ? null : value(t);
  };
  const product = (): number | null => {
    let v = primary();
    while (v !== null && (tokens[at] === "*" || tokens[at] === "/")) {
      const op = tokens[at++], w = primary();
      if (w === null) return null;
      v = op === "*" ? v * w : Math.floor(v / w);
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (tokens[at] === "+" || tokens[at] === "-")) {
      const op = tokens[at++], w = product();
      if (w === null) return null;
      v = op === "+" ? v + w : v - w;
    }
    return v;
  };
  const v = sum();
  return at === tokens.length ? v : null;
}

/** The end of the block that `{` at `open` starts (the index past its `}`). */
function blockEnd(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === "{") depth++;
    else if (code[i] === "}" && --depth === 0) return i + 1;
  }
  throw new Error("a block does not close");
}

/** Writes out every loop marked `// unroll`, one block per value of its counter. */
export function unroll(code: string, constants: Record<string, Constant>) {
  const loop =
    /\/\/ unroll\n\s*for \(var (\w+) = 0u; \1 < ([^;]+); \1\+\+\) \{/;
  for (let m = loop.exec(code); m; m = loop.exec(code)) {
    const [head, counter, boundExpr] = m;
    const bound = evaluate(boundExpr, constants);
    if (bound === null) {
      throw new Error(`// unroll: the bound ${boundExpr} is not a constant`);
    }
    const open = m.index + head.length - 1;
    const end = blockEnd(code, open);
    const body = code.slice(open + 1, end - 1);
    const name = new RegExp(`\\b${counter}\\b`, "g");
    const copies = Array.from(
      { length: bound },
      (_, i) => `{${body.replace(name, `${i}u`)}}`,
    );
    code = code.slice(0, m.index) + copies.join("") + code.slice(end);
  }
  return code;
}

/** Splits every array marked `// registers` into one variable per element. */
export function registers(code: string, constants: Record<string, Constant>) {
  const declaration = /\/\/ registers\n(\s*)var (\w+): (array<.*>);/;
  for (let m = declaration.exec(code); m; m = declaration.exec(code)) {
    const [whole, indent, name, type] = m;
    const dims: number[] = [];
    let element = type;
    for (
      let a = /^array<(.*), (\w+)>$/.exec(element);
      a;
      a = /^array<(.*), (\w+)>$/.exec(element)
    ) {
      dims.unshift(evaluate(a[2], constants)!);
      element = a[1];
    }
    dims.reverse();
    const names: string[] = [];
    const walk = (prefix: string, d: number): unknown =>
      d === dims.length
        ? names.push(prefix)
        : Array.from({ length: dims[d] }, (_, i) =>
          walk(`${prefix}_${i}`, d + 1));
    walk(name, 0);
    code = code.slice(0, m.index) +
      names.map((n) => `${indent}var ${n} = ${element}();`).join("\n") +
      code.slice(m.index + whole.length);
    // Each use, its indices constants by now: name[i][j] → name_i_j.
    const use = new RegExp(`\\b${name}((?:\\[[^\\[\\]]+\\])+)`, "g");
    code = code.replace(use, (text, indices: string) => {
      const at = [...indices.matchAll(/\[([^\[\]]+)\]/g)].map((i) =>
        evaluate(i[1], constants)
      );
      if (at.length !== dims.length || at.some((i) => i === null)) {
        throw new Error(`// registers: ${text} is not a constant element`);
      }
      return `${name}_${at.join("_")}`;
    });
  }
  return code;
}

/** The structs a WGSL text declares, by name. */
export function structs(code: string): Record<string, Struct> {
  const out: Record<string, Struct> = {};
  for (const m of code.matchAll(/struct (\w+) \{([^}]*)\}/g)) {
    const fields = [
      ...m[2].replace(/\/\/[^\n]*/g, "").matchAll(
        /(\w+)\s*:\s*(\w+)/g,
      ),
    ].map(([, name, type]) => {
      if (type !== "u32" && type !== "i32" && type !== "f32") {
        throw new Error(`struct ${m[1]}: ${name} is a ${type}, not a scalar`);
      }
      return { name, type } as Field;
    });
    out[m[1]] = { name: m[1], fields };
  }
  return out;
}

/** Values of a struct's fields, by name (fields named `_…` are padding, 0). */
export type StructValues = Record<string, number>;

/** Bytes of a struct in a uniform: 4 per field, rounded up to 16 (a uniform's alignment). */
export const structBytes = (s: Struct): number =>
  Math.ceil(s.fields.length / 4) * 16;

/** A struct's values as bytes, 4 per field, rounded up to 16 (a uniform's alignment). */
export function packStruct(
  s: Struct,
  values: StructValues,
): Uint8Array<ArrayBuffer> {
  for (const key of Object.keys(values)) {
    if (!s.fields.some((f) => f.name === key)) {
      throw new Error(`struct ${s.name} has no field ${key}`);
    }
  }
  const bytes = new ArrayBuffer(structBytes(s));
  const view = new DataView(bytes);
  s.fields.forEach((f, i) => {
    const v = values[f.name];
    if (v === undefined && !f.name.startsWith("_")) {
      throw new Error(`struct ${s.name}: no value for ${f.name}`);
    }
    if (f.type === "f32") view.setFloat32(4 * i, v ?? 0, true);
    else if (f.type === "i32") view.setInt32(4 * i, v ?? 0, true);
    else view.setUint32(4 * i, v ?? 0, true);
  });
  return new Uint8Array(bytes);
}

/** The structs of `common.wgsl` (each cell's `Hyper`). */
export const COMMON: Record<string, Struct> = structs(common);

/** Vec4s a row of a buffer held as a texture, as `common.wgsl` states it (its `texel` reads them). */
export const TEXELS: number = evaluate(
  /^const TEXELS = (\w+);$/m.exec(common)![1],
)!;

/**
 * The kernel of WGSL `source` with `constants` defined: the constants,
 * then `common.wgsl`, then the source, its markers expanded and its
 * resource variables bound in order. Every storage binding must have its
 * field in the kernel's `Cells` struct; a texture binding
 * (`var W_tex: texture_2d_array<f32>;`) holds one cell per layer.
 */
export function kernel(
  label: string,
  source: string,
  constants: Record<string, Constant> = {},
): Kernel {
  const defined = Object.entries(constants).map(([name, v]) =>
    `const ${name} = ${literal(v)};`
  ).join("\n");
  let code = registers(
    unroll(`${defined}\n${common}\n${source}`, constants),
    constants,
  );
  const declared = structs(code);
  const bindings: Binding[] = [];
  code = code.replace(
    /^var(?:<(uniform|storage, read|storage, read_write)>)? (\w+): ([^;]+);/gm,
    (whole, space: string | undefined, name: string, type: string) => {
      const access: Access = space === "uniform"
        ? "uniform"
        : space === "storage, read"
        ? "read"
        : space === "storage, read_write"
        ? "read_write"
        : "texture";
      if (access === "texture" && type !== "texture_2d_array<f32>") {
        throw new Error(`${label}: ${name} is a ${type}, not a binding`);
      }
      bindings.push({ name, access, type, struct: declared[type] });
      return `@group(0) @binding(${bindings.length - 1}) ${whole}`;
    },
  );
  const cells = declared.Cells?.fields.map((f) => f.name) ?? [];
  const stored = bindings.filter((b) => isStored(b)).map((b) => b.name);
  if (cells.join() !== stored.join()) {
    throw new Error(
      `${label}: struct Cells must list the storage bindings in order (${stored}), not (${cells})`,
    );
  }
  return { label, code, bindings };
}

/** Whether a binding is a storage buffer (those have a per-cell stride, in `Cells`). */
export const isStored = (b: Binding): boolean =>
  b.access === "read" || b.access === "read_write";

/** Bytes of one element of a storage array type (`array<vec4f>`: 16). */
export function elementBytes(type: string): number {
  return /^array<vec4[fu]>$/.test(type) ? 16 : 4;
}

/**
 * Bytes of a uniform binding that holds one state slot (A of a step
 * product): WebGPU's default `maxUniformBufferBindingSize`. Such bindings
 * are declared at this size whatever the shape, and bound as full ranges.
 */
export const UNIFORM_BYTES = 65536;
