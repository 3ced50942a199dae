/**
 * Timing of the fused engine's two hot kernels under different tiles, for
 * `deno task bench --tiles`: the forward step product (batch × H by H × H,
 * its A operand a uniform slot where a state fits one) and the weight
 * gradient over eight steps from storage. Fixed pseudo-random inputs; each
 * tile's first dispatch is timed alone (it includes compiling the kernel
 * where the adapter compiles on first use, as llvmpipe does), then the
 * best of three submits of `reps` dispatches.
 *
 * @module
 */
import { Gpu, type Resources } from "../engine/fused/gpu.ts";
import {
  forwardKernel,
  MAX_GROUP,
  outerKernel,
} from "../engine/fused/kernels.ts";
import { Recorder } from "../engine/fused/recorder.ts";
import { productGroups, type Tile } from "../engine/fused/tiles.ts";
import {
  COMMON,
  type Kernel,
  packStruct,
  UNIFORM_BYTES,
} from "../engine/fused/wgsl.ts";

/** One timed tile. */
export interface TileTiming {
  kernel: "step" | "outer";
  /** Rows per workgroup. */
  rb: number;
  /** vec4 columns per lane. */
  cv: number;
  /** Milliseconds per dispatch. */
  ms: number;
  gflops: number;
  /** Seconds of the first dispatch (compiling included). */
  first_s: number;
}

/** Tiles to time per kernel: [rows per workgroup, vec4 columns per lane]. */
export interface TileSet {
  step: [number, number][];
  outer: [number, number][];
}

/** The tiles `timeTiles` tries by default. */
export const DEFAULT_TILES: TileSet = {
  step: [[8, 4], [16, 2], [16, 4], [32, 2], [32, 4]],
  outer: [[16, 2], [16, 4], [32, 4]],
};

/**
 * Times the step and weight-gradient kernels of a B × H model (H a
 * multiple of 32) under each tile, with 8-invocation workgroups.
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
  const gpu = Gpu.of(device);
  const made: GPUBuffer[] = [];
  const buffer = (floats: number, usage: number = U.STORAGE) => {
    const b = device.createBuffer({
      size: Math.max(floats * 4, usage & U.UNIFORM ? UNIFORM_BYTES : 0),
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
  const HV = H / 4;
  const uniformA = slot * 4 <= UNIFORM_BYTES;
  const x = buffer(B); // token 0 everywhere: zeros as u32
  device.queue.writeBuffer(x, 0, new Uint32Array(B));
  const hcur = buffer(slot, U.STORAGE | U.UNIFORM);
  const hyper = buffer(4 * MAX_GROUP, U.UNIFORM);
  device.queue.writeBuffer( // one tanh cell
    hyper,
    0,
    packStruct(COMMON.Hyper, { lr: 0, theta: 3.4e38, relu: 0 }),
  );
  const [W, W_xh, b_h, hs, next, da, G] = [
    H * H,
    H,
    H,
    9 * slot,
    slot,
    8 * slot,
    H * H,
  ].map((n) => buffer(n));
  const time = async (
    k: Kernel,
    resources: Resources,
    groups: [number, number],
  ) => {
    const run = async (n: number) => {
      const rec = new Recorder(gpu);
      for (let i = 0; i < n; i++) rec.dispatch(k, resources, groups);
      rec.submit();
      await device.queue.onSubmittedWorkDone();
    };
    const t0 = performance.now();
    await run(1);
    const first = (performance.now() - t0) / 1000;
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await run(reps);
      best = Math.min(best, (performance.now() - t) / reps);
    }
    return { ms: best, first_s: first };
  };
  const out: TileTiming[] = [];
  for (const [rb, cv] of tiles.step) {
    if (HV % (8 * cv) !== 0) continue;
    const t: Tile = { rb, cv, lanes: 8 };
    const { ms, first_s } = await time(
      forwardKernel(t, { uniformA, oneHot: true }),
      {
        sizes: { t: 0, rows: B, width: HV },
        hyper,
        A_slot: uniformA
          ? { buffer: hcur, offset: 0, size: UNIFORM_BYTES }
          : null,
        A: uniformA ? null : hcur,
        W,
        x,
        W_xh,
        P: null,
        b_h,
        hs,
        next,
        W_tex: null,
      },
      productGroups(t, B, H),
    );
    out.push({
      kernel: "step",
      rb,
      cv,
      ms,
      gflops: 2 * B * H * H / ms / 1e6,
      first_s,
    });
  }
  for (const [rb, cv] of tiles.outer) {
    if (HV % (8 * cv) !== 0 || H % rb !== 0) continue;
    const t: Tile = { rb, cv, lanes: 8 };
    const { ms, first_s } = await time(
      outerKernel(t, false),
      {
        sizes: {
          rows: 8 * B,
          slice: 8 * B,
          carry: 0,
          K: HV,
          N: HV,
          a: 0,
          o: 0,
        },
        A: hs,
        x: null,
        D: da,
        G,
        G_b: null,
        A_tex: null,
        D_tex: null,
      },
      [HV / (8 * cv), H / rb],
    );
    out.push({
      kernel: "outer",
      rb,
      cv,
      ms,
      gflops: 2 * 8 * B * H * H / ms / 1e6,
      first_s,
    });
  }
  for (const b of made) {
    gpu.forget(b);
    b.destroy();
  }
  return out;
}
