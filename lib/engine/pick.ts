/**
 * Which engine trains fastest on this machine, for a config that names
 * neither engine nor backend: the fused engine on a hardware WebGPU
 * adapter; without one, the BLAS engine where a CBLAS is installed; else
 * the fused engine on a software adapter (Mesa's llvmpipe); else
 * the reference engine on tfjs's wasm backend. docs/performance.md has the
 * measurements behind this order.
 *
 * @example
 * ```ts
 * const { engine, backend, why } = await pickEngine();
 * ```
 *
 * @module
 */
import { type BackendName, describeAdapter } from "../model/adapter.ts";
import { openCblas } from "./cblas.ts";
import { isSoftware } from "./tiles.ts";

/** The training engines. */
export const ENGINES = ["fused", "blas", "reference"] as const;
/** A training engine. */
export type Engine = typeof ENGINES[number];

/** An engine and the tfjs backend beside it. */
export interface EngineChoice {
  /** The training engine. */
  engine: Engine;
  /** The tfjs backend beside it. */
  backend: BackendName;
}

/**
 * The engines a machine may pick when a config names neither engine nor
 * backend, in the order {@linkcode pickEngine} prefers them (the book's setup first:
 * the fused engine on WebGPU).
 */
export const AUTO_ENGINES: readonly EngineChoice[] = [
  { engine: "fused", backend: "webgpu" },
  { engine: "blas", backend: "cpu" },
  { engine: "reference", backend: "wasm" },
];

/** The machine's engine and why it was picked. */
export interface PickedEngine extends EngineChoice {
  /** Why this machine picks it, in words. */
  why: string;
}

/** Picks the engine (cached per process unless `gpu` is given). */
export function pickEngine(
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<PickedEngine> {
  if (gpu !== (navigator.gpu ?? null)) return pick(gpu);
  return cached ??= pick(gpu);
}

let cached: Promise<PickedEngine> | undefined;

async function pick(
  gpu: Pick<GPU, "requestAdapter"> | null,
): Promise<PickedEngine> {
  const adapter = await gpu?.requestAdapter() ?? null;
  const name = adapter?.info.description || adapter?.info.vendor || "";
  if (adapter && !isSoftware(adapter)) {
    return { engine: "fused", backend: "webgpu", why: `WebGPU on ${name}` };
  }
  const blas = openCblas();
  if (blas) {
    return {
      engine: "blas",
      backend: "cpu",
      why: `${blas.description}${
        adapter ? `; the WebGPU adapter is a software one (${name})` : ""
      }`,
    };
  }
  if (adapter) {
    return {
      engine: "fused",
      backend: "webgpu",
      why: `WebGPU on a software adapter (${name}); no CBLAS`,
    };
  }
  return {
    engine: "reference",
    backend: "wasm",
    why: "no WebGPU adapter and no CBLAS",
  };
}

/**
 * What an engine computes on, as a record stores it: the CBLAS for the
 * blas engine, the WebGPU adapter on the webgpu backend, else null.
 */
export async function describeDevice(
  choice: EngineChoice,
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<Record<string, string | boolean> | null> {
  if (choice.engine === "blas") {
    const blas = openCblas();
    return blas ? { vendor: "cblas", description: blas.description } : null;
  }
  return choice.backend === "webgpu" ? await describeAdapter(gpu) : null;
}

/**
 * How many cells of one shape a machine trains together by default (the
 * fused engine; others train cells one at a time): on a hardware GPU a
 * group of up to 64, since one model leaves the GPU idle between its
 * dependent dispatches; on a software adapter or without one, 1 (there
 * the arithmetic, not the dispatches, takes the time: docs/performance.md).
 */
export async function defaultBatch(
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<number> {
  const adapter = await gpu?.requestAdapter() ?? null;
  return adapter && !isSoftware(adapter) ? 64 : 1;
}
