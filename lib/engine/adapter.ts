/**
 * The tfjs backends' names, what a run computed on and the WebGPU adapter a
 * process gets, without loading tfjs: the runner, `--list`, the reports and
 * the engine choice need only these, and tfjs alone takes most of a
 * process's start and memory.
 *
 * @module
 */

import type { BackendName } from "../config/config.ts";

export { type BackendName, BACKENDS } from "../config/config.ts";

/** What a run computed on. */
export interface BackendInfo {
  /** The tfjs backend in use. */
  backend: BackendName;
  /** tfjs version, or null where tfjs computed nothing (the fused and blas engines). */
  tfjs: string | null;
  /** WebGPU adapter (vendor, architecture, device, description), or null off WebGPU. */
  adapter: Record<string, string | boolean> | null;
  /** The fused engine's recurrence kernels: looped over the steps (a workgroup's rows, or one row per invocation), or one dispatch per step (same numbers). */
  kernels?: "rows" | "looped" | "steps";
}

/**
 * The WebGPU adapter this process gets (what every record stores), or null
 * when there is none.
 *
 * @example
 * ```ts
 * (await describeAdapter())?.description; // e.g. "NVIDIA H200"
 * ```
 */
export async function describeAdapter(
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<Record<string, string | boolean> | null> {
  const adapter = await gpu?.requestAdapter();
  return adapter ? adapterInfo(adapter) : null;
}

/** What a record stores of an adapter: vendor, architecture, device, description, fallback or not. */
export function adapterInfo(
  adapter: GPUAdapter,
): Record<string, string | boolean> {
  const { vendor, architecture, device, description } = adapter.info;
  return {
    vendor,
    architecture,
    device,
    description,
    isFallbackAdapter: adapter.info.isFallbackAdapter ?? false,
  };
}

/** What to say when a run needs a WebGPU adapter and there is none. */
export const NO_ADAPTER =
  "backend webgpu: no WebGPU adapter found (on Linux without a GPU, install " +
  "Mesa's Vulkan driver, Debian package mesa-vulkan-drivers); " +
  "run with --backend wasm or --backend cpu instead";
