/**
 * GPU time per kernel of one minibatch of the fused engine, from GPU
 * timestamps around each dispatch, where the adapter offers them.
 *
 * @module
 */
import { makeRng } from "../data/prng.ts";
import { dataIter } from "../data/iterators.ts";
import { get_params } from "../model/params.ts";
import { resolveConfig } from "../config/config.ts";
import { FusedCells } from "../engine/fused/fused.ts";
import { tilesFor } from "../engine/fused/tiles.ts";
import { rnnSpec } from "../train/run.ts";

/** GPU time per kernel of one fused minibatch, or why there is none. */
export type KernelProfile =
  | { kernels: Record<string, { ms: number; dispatches: number }> }
  | { error: string };

/**
 * Times each kernel of one minibatch of the fused engine on the chapter's
 * config with GPU timestamps (after a warm-up epoch), where the adapter
 * offers them.
 */
export async function profileFused(
  train: Int32Array,
  V: number,
): Promise<KernelProfile> {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter");
    if (!adapter.features.has("timestamp-query")) {
      throw new Error("the adapter has no timestamp queries");
    }
    const device = await adapter.requestDevice({
      requiredFeatures: ["timestamp-query"],
    });
    const c = resolveConfig({});
    const spec = rnnSpec(c, V);
    const net = new FusedCells(device, {
      ...spec,
      batch_size: c.batch_size,
      num_steps: c.num_steps,
      max_steps: c.num_steps,
      tiles: tilesFor(adapter),
    }, [{
      params: get_params(spec, makeRng(c.seed)),
      activation: c.activation,
    }]);
    const batches = [
      ...dataIter(c.sampling, train, c.batch_size, c.num_steps, makeRng(1)),
    ];
    await net.trainEpochs([{ batches, options: c }]);
    const kernels = await net.profile(batches[0]);
    net.destroy();
    device.destroy();
    return { kernels };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
