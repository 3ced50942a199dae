/**
 * The engines: one family, each a group of N ≥ 1 models of one shape
 * ({@linkcode EngineGroup}) opened by {@linkcode openGroup} from the cells'
 * configs. The fused engine (WGSL kernels on WebGPU, `fused/`) trains a
 * group's cells in the same dispatches; the blas engine (the system's
 * CBLAS on the CPU, `blas/`) and the reference engine (tfjs autograd,
 * `reference.ts`, the one the others are checked against) train them one
 * after another. {@linkcode pickEngine} says which this machine trains
 * fastest with.
 *
 * @example
 * ```ts
 * import { openGroup } from "./mod.ts";
 *
 * const group = await openGroup([{ config, params }], spec);
 * const [stats] = await group.trainEpochs([{ batches, options: config }]);
 * ```
 *
 * @module
 */
export {
  type CellEpoch,
  type CellEval,
  type EngineGroup,
  type EpochOptions,
  type EpochStats,
  type Gradients,
  type GroupCell,
  groupKey,
  type GroupSpec,
  groupSpec,
  MAX_GROUP,
} from "./group.ts";
export { openGroup } from "./open.ts";
export { FusedCells, type FusedSpec } from "./fused/fused.ts";
export { BlasCells } from "./blas/cells.ts";
export { BlasRnn } from "./blas/blas.ts";
export { type Cblas, openCblas, whyNoCblas } from "./blas/cblas.ts";
export { openDevice } from "./fused/gpu.ts";
export type { KernelTimes } from "./fused/recorder.ts";
export {
  isSoftware,
  loopsFor,
  type Recurrence,
  ROWS_MAX,
  tilesFor,
} from "./fused/tiles.ts";
export { BLAS_VERSION, FUSED_VERSION } from "./version.ts";
export {
  defaultBatch,
  describeDevice,
  type PickedEngine,
  pickEngine,
} from "./pick.ts";
