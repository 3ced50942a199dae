/**
 * A CBLAS library (OpenBLAS, Apple's Accelerate, Intel's MKL) through
 * Deno's FFI: the matrix product `sgemm` for the BLAS engine. Looked for
 * in the system's library directories ({@linkcode BLAS_DIRS}: the tasks
 * allow FFI there and nowhere else), or at the path in `RNNLAB_BLAS` (add
 * its directory to `--allow-ffi`). Netlib's reference BLAS is not looked
 * for: it is many times slower than the fused engine on a software
 * adapter. On Debian and Ubuntu: `apt-get install libopenblas0`.
 *
 * @example
 * ```ts
 * const blas = openCblas();
 * if (blas) console.log(blas.description); // e.g. "OpenBLAS 0.3.21 (Cooperlake, 2 threads)"
 * ```
 *
 * @module
 */

/** A loaded CBLAS. */
export interface Cblas {
  /**
   * C ← α·op(A)·op(B) + β·C on row-major matrices, op(X) = Xᵀ when its
   * flag is set: op(A) is M × K, op(B) K × N, C M × N; `lda`, `ldb`,
   * `ldc` are row strides.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    B: Float32Array,
    ldb: number,
    beta: number,
    C: Float32Array,
    ldc: number,
  ): void;
  /** The library, its CPU kernels and threads, as a record names them. */
  readonly description: string;
}

/**
 * The directories searched, as the tasks' `--allow-ffi` lists them
 * (macOS keeps Accelerate in the dyld cache, not on disk).
 */
export const BLAS_DIRS = [
  "/usr/lib",
  "/usr/lib64",
  "/usr/local/lib",
  "/opt/homebrew/opt/openblas/lib",
  "/usr/local/opt/openblas/lib",
  "/System/Library/Frameworks/Accelerate.framework",
];

/** Fast CBLAS libraries, in order of preference, as paths to try. */
function candidates(): string[] {
  if (Deno.build.os === "darwin") {
    return [
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
    ];
  }
  const names = ["libopenblas.so.0", "libopenblas.so", "libmkl_rt.so.2"];
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  const dirs = [
    `/usr/lib/${arch}-linux-gnu`,
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
  ];
  return dirs.flatMap((d) => names.map((n) => `${d}/${n}`)).filter((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_get_config: { parameters: [], result: "pointer", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** Throws unless `x` holds a rows × cols row-major matrix of row stride `ld`. */
function fits(
  name: string,
  x: Float32Array,
  rows: number,
  cols: number,
  ld: number,
) {
  if (rows === 0 || cols === 0) return;
  if (ld < cols || (rows - 1) * ld + cols > x.length) {
    throw new RangeError(
      `sgemm: ${name} is ${rows} × ${cols} with stride ${ld}, its array holds ${x.length}`,
    );
  }
}

let cached: { blas: Cblas | null; why: string; broken?: true } | undefined;

/**
 * The C string at `p`, copied out with the C library's strlen and memcpy
 * (reading memory through Deno's own pointer views needs FFI permission
 * everywhere, not only in the library directories).
 */
function cString(p: Deno.PointerValue | undefined): string {
  if (!p) return "";
  const libc = Deno.build.os === "darwin"
    ? "/usr/lib/libSystem.B.dylib"
    : `/usr/lib/${
      Deno.build.arch === "aarch64" ? "aarch64" : "x86_64"
    }-linux-gnu/libc.so.6`;
  try {
    const c = Deno.dlopen(libc, {
      strlen: { parameters: ["pointer"], result: "usize" },
      memcpy: { parameters: ["buffer", "pointer", "usize"], result: "pointer" },
    });
    const n = Number(c.symbols.strlen(p));
    const out = new Uint8Array(n);
    c.symbols.memcpy(out, p, BigInt(n));
    c.close();
    return new TextDecoder().decode(out);
  } catch {
    return "";
  }
}

/**
 * The first CBLAS found (cached), or null with the reason in
 * {@linkcode whyNoCblas} when none is installed. One that is installed but
 * cannot be loaded (no permission, a broken library) is an error, thrown:
 * quietly training with another engine would hide it.
 */
export function openCblas(): Cblas | null {
  cached ??= load();
  if (cached.broken) throw new Error(cached.why);
  return cached.blas;
}

/** Why {@linkcode openCblas} found none ("" when it found one). */
export function whyNoCblas(): string {
  cached ??= load();
  return cached.why;
}

function load(): NonNullable<typeof cached> {
  let env: string | undefined;
  try {
    env = Deno.env.get("RNNLAB_BLAS");
  } catch {
    // No --allow-env: the usual names only.
  }
  const names = env ? [env] : candidates();
  const why =
    "no OpenBLAS, Accelerate or MKL found (on Debian or Ubuntu: apt-get install libopenblas0)";
  for (const name of names) {
    let lib;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
    } catch (e) {
      // Every name tried is a file that is there (or the one asked for).
      return {
        blas: null,
        why: e instanceof Deno.errors.NotCapable
          ? `${name}: not allowed to load it (--allow-ffi)`
          : `${env ? `RNNLAB_BLAS=${env}` : name}: ${(e as Error).message}`,
        broken: true,
      };
    }
    const s = lib.symbols;
    const config = cString(s.openblas_get_config?.());
    const version = /OpenBLAS [\d.]+/.exec(config)?.[0];
    const description = version
      ? `${version} (${
        cString(s.openblas_get_corename?.())
      }, ${s.openblas_get_num_threads?.()} threads)`
      : name.split("/").pop()!;
    return {
      why: "",
      blas: {
        description,
        sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) {
          // The library writes where the strides say: a view too short
          // would be memory corruption, so it is an error here.
          fits("A", A, ta ? K : M, ta ? M : K, lda);
          fits("B", B, tb ? N : K, tb ? K : N, ldb);
          fits("C", C, M, N, ldc);
          s.cblas_sgemm(
            ROW_MAJOR,
            ta ? TRANS : NO_TRANS,
            tb ? TRANS : NO_TRANS,
            M,
            N,
            K,
            alpha,
            A,
            lda,
            B,
            ldb,
            beta,
            C,
            ldc,
          );
        },
      },
    };
  }
  return { blas: null, why };
}
