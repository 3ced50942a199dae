/**
 * Timing of the fused engine's two hot kernels under different tiles, for
 * `deno task bench --tiles`: the forward step product (batch × H by H × H,
 * its A operand in a uniform buffer where it fits) and the weight gradient
 * over eight uniform-bound state slots. Fixed pseudo-random inputs; each
 * tile is timed as the best of three submits of `reps` dispatches (a submit
 * and its wait cost ~13 ms on llvmpipe, shared among them).
 *
 * @module
 */
import {
  outerGroups,
  outerSteps,
  productGroups,
  stepForward,
} from "./kernels.ts";

/** One timed tile. */
export interface TileTiming {
  kernel: "step" | "outerSteps";
  /** Rows per workgroup. */
  rb: number;
  /** vec4 columns per lane. */
  cv: number;
  /** Milliseconds per dispatch. */
  ms: number;
  gflops: number;
}

/** Tiles to time per kernel: [rows per workgroup, vec4 columns per lane]. */
export interface TileSet {
  step: [number, number][];
  outerSteps: [number, number][];
}

/** The tiles `timeTiles` tries by default. */
export const DEFAULT_TILES: TileSet = {
  step: [[8, 4], [16, 2], [16, 4], [32, 2], [32, 4]],
  outerSteps: [[32, 2], [32, 4], [64, 4]],
};

/**
 * Times the step and weight-gradient kernels of a B × H model (H a
 * multiple of 32) under each tile.
 *
 * @example
 * ```ts
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * for (const t of await timeTiles(device, 32, 512)) console.log(t.kernel, t.rb, t.cv, t.ms);
 * ```
 */
export async function timeTiles(
  device: GPUDevice,
  B: number,
  H: number,
  tiles: TileSet = DEFAULT_TILES,
  reps = 50,
): Promise<TileTiming[]> {
  const U = GPUBufferUsage;
  const made: GPUBuffer[] = [];
  const buffer = (floats: number, usage: number = U.STORAGE) => {
    const b = device.createBuffer({
      size: floats * 4,
      usage: usage | U.COPY_DST,
    });
    device.queue.writeBuffer(
      b,
      0,
      Float32Array.from({ length: floats }, (_, i) => ((i * 7919) % 97) / 970),
    );
    made.push(b);
    return b;
  };
  const slot = B * H;
  const uniformA = slot * 4 <= device.limits.maxUniformBufferBindingSize;
  const a = uniformA ? "uniform" as const : "storage" as const;
  const step = buffer(4, U.UNIFORM);
  device.queue.writeBuffer(step, 0, new Uint32Array(4)); // step 0
  const hcur = buffer(slot, U.STORAGE | U.UNIFORM);
  const hs = buffer(9 * slot, U.STORAGE | U.UNIFORM);
  const W = buffer(H * H);
  const x = buffer(B); // token 0 everywhere: zeros as u32
  device.queue.writeBuffer(x, 0, new Uint32Array(B));
  const [Wxh, bh, next, da, G] = [H, H, slot, 8 * slot, H * H].map((n) =>
    buffer(n)
  );
  const time = async (
    code: string,
    entries: GPUBindingResource[],
    groups: [number, number],
  ) => {
    const pipeline = device.createComputePipeline({
      layout: "auto",
      compute: {
        module: device.createShaderModule({ code }),
        entryPoint: "main",
      },
    });
    const group = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: entries.map((resource, binding) => ({ binding, resource })),
    });
    const run = async (n: number) => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (let i = 0; i < n; i++) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(groups[0], groups[1]);
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    await run(1);
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await run(reps);
      best = Math.min(best, (performance.now() - t0) / reps);
    }
    return best;
  };
  const out: TileTiming[] = [];
  for (const [rb, cv] of tiles.step) {
    if ((H / 4) % (8 * cv) !== 0) continue;
    const shape = { a, rb, cv };
    const ms = await time(
      stepForward({ B, Hp: H }, "tanh", "one_hot", shape),
      [
        { buffer: step },
        { buffer: hcur },
        { buffer: W },
        { buffer: x },
        {
          buffer: Wxh,
        },
        { buffer: bh },
        { buffer: hs },
        { buffer: next },
      ],
      productGroups({ M: B, K: H, N: H, layout: "nn", ...shape }),
    );
    out.push({ kernel: "step", rb, cv, ms, gflops: 2 * B * H * H / ms / 1e6 });
  }
  if (uniformA) {
    for (const [rb, cv] of tiles.outerSteps) {
      if ((H / 4) % (8 * cv) !== 0 || H % rb !== 0) continue;
      const shape = { K: H, N: H, rb, cv, rows: B, steps: 8 };
      const slots = Array.from({ length: 8 }, (_, s) => ({
        buffer: hs,
        offset: s * slot * 4,
        size: slot * 4,
      }));
      const ms = await time(
        outerSteps(shape),
        [{ buffer: step }, ...slots, { buffer: da }, { buffer: G }],
        outerGroups(shape),
      );
      out.push({
        kernel: "outerSteps",
        rb,
        cv,
        ms,
        gflops: 2 * 8 * B * H * H / ms / 1e6,
      });
    }
  }
  for (const b of made) b.destroy();
  return out;
}
