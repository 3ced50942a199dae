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
import { adapterInfo, type BackendInfo, describeAdapter } from "./adapter.ts";
import { openCblas } from "./blas/cblas.ts";
import { isSoftware, loopsFor, tilesFor } from "./fused/tiles.ts";
import {
  AUTO_ENGINES,
  type Engine,
  type EngineChoice,
  ENGINES,
} from "../config/config.ts";

export { AUTO_ENGINES, type Engine, type EngineChoice, ENGINES };

/** The machine's engine and why it was picked. */
export interface PickedEngine extends EngineChoice {
  /** Why this machine picks it, in words. */
  why: string;
}

/**
 * Picks the engine (cached per process unless `gpu` or `cblas` is given:
 * tests pass stand-ins for the adapter and the CBLAS).
 */
export function pickEngine(
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
  cblas: () => { description: string } | null = openCblas,
): Promise<PickedEngine> {
  if (gpu !== (navigator.gpu ?? null) || cblas !== openCblas) {
    return pick(gpu, cblas);
  }
  return cached ??= pick(gpu, cblas);
}

let cached: Promise<PickedEngine> | undefined;

async function pick(
  gpu: Pick<GPU, "requestAdapter"> | null,
  cblas: () => { description: string } | null,
): Promise<PickedEngine> {
  const adapter = await gpu?.requestAdapter() ?? null;
  const name = adapter?.info.description || adapter?.info.vendor || "";
  if (adapter && !isSoftware(adapter)) {
    return { engine: "fused", backend: "webgpu", why: `WebGPU on ${name}` };
  }
  const blas = cblas();
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
 * What a run of `choice` computes on, as its record says: the backend,
 * tfjs's version where tfjs computes (the reference engine), the device
 * ({@linkcode describeDevice}), and for the fused engine which recurrence
 * kernels a model of its num_hiddens runs there ({@linkcode loopsFor}).
 */
export async function describeBackend(
  choice: EngineChoice & { num_hiddens?: number },
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<BackendInfo> {
  const tfjs = choice.engine === "reference"
    ? (await import("./backend.ts")).tfjsVersion()
    : null;
  if (
    choice.engine !== "fused" || choice.backend !== "webgpu" ||
    choice.num_hiddens === undefined
  ) {
    return {
      backend: choice.backend,
      tfjs,
      adapter: await describeDevice(choice, gpu),
    };
  }
  // The fused engine's kernels come from the same adapter: asked for once.
  const adapter = await gpu?.requestAdapter() ?? null;
  return {
    backend: choice.backend,
    tfjs,
    adapter: adapter && adapterInfo(adapter),
    ...adapter && {
      kernels: loopsFor(choice.num_hiddens, tilesFor(adapter)),
    },
  };
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
