/**
 * A group of fused cells sized by the device: as many as its bindings
 * hold trained together, the rest in further parts one after another.
 *
 * @module
 */
import { type EngineGroup, SplitGroup } from "../group.ts";
import { type CellInit, FusedCells, type FusedSpec } from "./fused.ts";
import { groupCapacity } from "./model.ts";

/**
 * The cells as one group on `device`, or as several trained one after
 * another where one would not fit its bindings ({@linkcode groupCapacity}):
 * a group's size is the machine's choice, never a WebGPU error.
 *
 * @example
 * ```ts
 * const group = fusedGroup(device, spec, cells); // 64 chapter cells: 56 + 8 on 128 MiB bindings
 * ```
 */
export function fusedGroup(
  device: GPUDevice,
  spec: FusedSpec,
  cells: CellInit[],
): EngineGroup {
  const n = groupCapacity(spec, device.limits);
  if (cells.length <= n) return new FusedCells(device, spec, cells);
  const parts: FusedCells[] = [];
  try {
    for (let i = 0; i < cells.length; i += n) {
      parts.push(new FusedCells(device, spec, cells.slice(i, i + n)));
    }
  } catch (e) {
    for (const p of parts) p.destroy();
    throw e;
  }
  return new SplitGroup(parts);
}
