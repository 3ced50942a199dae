/**
 * The one way to get an engine: a group of models of one shape from the
 * cells' configs, by the engine they name. The reference engine and tfjs
 * are loaded only when a config names it.
 *
 * @module
 */
import {
  type EngineGroup,
  type GroupCell,
  type GroupSpec,
  MAX_GROUP,
} from "./group.ts";
import { openDevice } from "./fused/gpu.ts";
import { fusedGroup } from "./fused/split.ts";
import { tilesFor } from "./fused/tiles.ts";
import { openCblas, whyNoCblas } from "./blas/cblas.ts";
import { BlasCells } from "./blas/cells.ts";

/**
 * A group of `cells` (one engine and backend, one `spec`) on the engine
 * their config names: the fused engine on this process's WebGPU device
 * (its tiles from the adapter), the blas engine on the system's CBLAS, the
 * reference engine on its tfjs backend (made the active one).
 *
 * @example
 * ```ts
 * const group = await openGroup([{ config, params: run.init }], spec);
 * ```
 */
export async function openGroup(
  cells: GroupCell[],
  spec: GroupSpec,
): Promise<EngineGroup> {
  const [{ engine, backend }] = cells.map((c) => c.config);
  if (cells.some((c) => c.config.engine !== engine)) {
    throw new Error("the cells of a group need one engine");
  }
  const init = cells.map((c) => ({
    params: c.params,
    activation: c.config.activation,
  }));
  if (engine === "fused") {
    if (cells.length > MAX_GROUP) {
      throw new Error(`a group holds 1 to ${MAX_GROUP} cells`);
    }
    const { adapter, device } = await openDevice();
    return fusedGroup(device, { ...spec, tiles: tilesFor(adapter) }, init);
  }
  if (engine === "blas") {
    const blas = openCblas();
    if (!blas) {
      throw new Error(
        `engine blas needs a CBLAS library: ${whyNoCblas()}; or use --engine fused`,
      );
    }
    return new BlasCells(blas, spec, init);
  }
  const { setBackend } = await import("./backend.ts");
  const { ReferenceCells } = await import("./reference.ts");
  if (cells.some((c) => c.config.backend !== backend)) {
    throw new Error("the cells of a group need one tfjs backend");
  }
  await setBackend(backend);
  return new ReferenceCells(spec, init);
}
