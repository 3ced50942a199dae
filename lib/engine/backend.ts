/**
 * Chooses the tfjs backend (`webgpu` by default, `wasm`, `cpu`) and describes
 * the adapter it runs on, so every record says what computed it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import "@tensorflow/tfjs-backend-wasm";
import { UserError } from "../errors.ts";

export {
  type BackendInfo,
  type BackendName,
  BACKENDS,
  describeAdapter,
  NO_ADAPTER,
} from "./adapter.ts";
import {
  type BackendInfo,
  type BackendName,
  describeAdapter,
  NO_ADAPTER,
} from "./adapter.ts";

/**
 * Makes `name` the active tfjs backend and returns what it runs on.
 *
 * @example
 * ```ts
 * const info = await setBackend("cpu");
 * info.backend; // "cpu"
 * ```
 */
export async function setBackend(
  name: BackendName,
  /** Where adapters come from; tests pass a stand-in. */
  gpu: Pick<GPU, "requestAdapter"> | null = navigator.gpu ?? null,
): Promise<BackendInfo> {
  // Production mode skips tfjs's debug checks and its Node.js banner.
  tf.enableProdMode();
  const adapter = name === "webgpu" ? await describeAdapter(gpu) : null;
  if (name === "webgpu" && !adapter) {
    throw new UserError(NO_ADAPTER);
  }
  if (!(await tf.setBackend(name))) {
    throw new UserError(`backend ${name}: tfjs could not initialise it`);
  }
  await tf.ready();
  return { backend: name, tfjs: tf.version.tfjs, adapter };
}

/** The version of tfjs, which only the reference engine computes with. */
export const tfjsVersion = (): string => tf.version.tfjs;
