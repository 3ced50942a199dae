/**
 * The versions of the engines' arithmetic. Experiment cell ids include
 * them, so stored results are recomputed when one changes: bump it with
 * any change that alters numbers. Apart from the engines so that reading a
 * record (its id) loads no kernels.
 *
 * @module
 */

/** Version of the fused engine's arithmetic (`lib/engine/fused.ts`). */
export const FUSED_VERSION = "fused/3";

/** Version of the BLAS engine's arithmetic (`lib/engine/blas.ts`). */
export const BLAS_VERSION = "blas/1";
