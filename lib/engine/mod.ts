/**
 * The explicit-BPTT engines: the fused engine (WGSL kernels on WebGPU) and
 * the BLAS engine (the system's CBLAS on the CPU), both checked against
 * the tfjs autograd reference, and the choice between them.
 *
 * @example
 * ```ts
 * import { BlasRnn, openCblas } from "./mod.ts";
 *
 * const net = new BlasRnn(openCblas()!, spec, params);
 * await net.trainEpoch(batches, { lr: 1, clip: 1, sampling: "sequential", detach: true });
 * ```
 *
 * @module
 */
export type {
  BpttEngine,
  BpttSpec,
  EpochOptions,
  EpochStats,
  Gradients,
} from "./engine.ts";
export {
  type CellEpoch,
  type CellInit,
  FUSED_VERSION,
  FusedCells,
  FusedRnn,
  type FusedSpec,
} from "./fused.ts";
export { BLAS_VERSION, BlasRnn } from "./blas.ts";
export { type Cblas, openCblas, whyNoCblas } from "./cblas.ts";
export { Gpu, openDevice } from "./gpu.ts";
export type { KernelTimes } from "./recorder.ts";
export { isSoftware, tilesFor } from "./tiles.ts";
export {
  defaultBatch,
  describeDevice,
  type PickedEngine,
  pickEngine,
} from "./pick.ts";
