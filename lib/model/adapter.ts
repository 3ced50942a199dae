/**
 * The tfjs backends' names, what a run computed on and the WebGPU adapter a
 * process gets, without loading tfjs: the runner, `--list`, the reports and
 * the engine choice need only these, and tfjs alone takes most of a
 * process's start and memory.
 *
 * @module
 */

/** The tfjs backends rnnlab runs on. */
export const BACKENDS = ["webgpu", "wasm", "cpu"] as const;
/** One of {@linkcode BACKENDS}. */
export type BackendName = typeof BACKENDS[number];

/** What a run computed on. */
export interface BackendInfo {
  /** The tfjs backend in use. */
  backend: BackendName;
  /** tfjs version. */
  tfjs: string;
  /** WebGPU adapter (vendor, architecture, device, description), or null off WebGPU. */
  adapter: Record<string, string | boolean> | null;
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
  if (!adapter) return null;
  const { vendor, architecture, device, description } = adapter.info;
  return {
    vendor,
    architecture,
    device,
    description,
    isFallbackAdapter: adapter.info.isFallbackAdapter ?? false,
  };
}
