/**
 * Command recording for the fused engine: dispatches share one compute
 * pass until a copy or clear ends it, and each covers every cell of the
 * group (its workgroups' z). When profiling, every dispatch gets a pass of
 * its own with GPU timestamps at its start and end.
 *
 * @module
 */
import type { Gpu, Resources } from "./gpu.ts";
import type { Kernel } from "./wgsl.ts";

/** GPU time per kernel label: milliseconds summed over its dispatches, and their count. */
export type KernelTimes = Record<string, { ms: number; dispatches: number }>;

/** One command buffer being recorded. */
export class Recorder {
  readonly #gpu: Gpu;
  readonly #encoder: GPUCommandEncoder;
  #pass: GPUComputePassEncoder | null = null;
  readonly #query: GPUQuerySet | null;
  readonly #names: string[] = [];
  readonly #cells: number;
  /** Dispatches recorded. */
  dispatches = 0;

  /**
   * A recording for `cells` cells (each dispatch's workgroups repeat over
   * z for them). With `profile`, each dispatch is timed (needs the
   * "timestamp-query" feature).
   */
  constructor(gpu: Gpu, profile = false, cells = 1) {
    this.#gpu = gpu;
    this.#cells = cells;
    this.#encoder = gpu.device.createCommandEncoder();
    this.#query = profile
      ? gpu.device.createQuerySet({ type: "timestamp", count: 4096 })
      : null;
  }

  /**
   * Records kernel `k` over `resources` as `groups` workgroups; `name` is
   * what a profile sums it under.
   */
  dispatch(
    k: Kernel,
    resources: Resources,
    groups: readonly [number, number],
    name: string = k.label.split(":")[0],
  ): void {
    const pass = this.#passFor(name);
    pass.setPipeline(this.#gpu.pipeline(k));
    pass.setBindGroup(0, this.#gpu.bind(k, resources));
    pass.dispatchWorkgroups(groups[0], groups[1], this.#cells);
    this.dispatches++;
    if (this.#query) this.#end();
  }

  copy(
    src: GPUBuffer,
    srcOffset: number,
    dst: GPUBuffer,
    dstOffset: number,
    bytes: number,
  ): void {
    this.#end();
    this.#encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Copies `vec4s` vec4s of `src` from byte `offset` into layer `layer` of
   * an rgba32float texture, `texels` a row (a last row part full).
   */
  toTexture(
    src: GPUBuffer,
    offset: number,
    texture: GPUTexture,
    layer: number,
    vec4s: number,
    texels: number,
  ): void {
    this.#end();
    const rows = Math.floor(vec4s / texels), rest = vec4s % texels;
    if (rows) {
      this.#encoder.copyBufferToTexture(
        { buffer: src, offset, bytesPerRow: texels * 16, rowsPerImage: rows },
        { texture, origin: [0, 0, layer] },
        [texels, rows, 1],
      );
    }
    if (rest) {
      this.#encoder.copyBufferToTexture(
        { buffer: src, offset: offset + rows * texels * 16 },
        { texture, origin: [0, rows, layer] },
        [rest, 1, 1],
      );
    }
  }

  clear(buffer: GPUBuffer, offset: number, bytes: number): void {
    this.#end();
    this.#encoder.clearBuffer(buffer, offset, bytes);
  }

  /** Submits what was recorded. */
  submit(): void {
    this.#end();
    this.#gpu.device.queue.submit([this.#encoder.finish()]);
  }

  /** Submits, then sums the timestamps per kernel label. */
  async resolve(): Promise<KernelTimes> {
    const device = this.#gpu.device;
    const n = this.#names.length * 2;
    const resolved = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const staging = device.createBuffer({
      size: n * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#end();
    this.#encoder.resolveQuerySet(this.#query!, 0, n, resolved, 0);
    this.#encoder.copyBufferToBuffer(resolved, 0, staging, 0, n * 8);
    device.queue.submit([this.#encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ns = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const out: KernelTimes = {};
    this.#names.forEach((name, i) => {
      const o = out[name] ??= { ms: 0, dispatches: 0 };
      o.ms += Number(ns[2 * i + 1] - ns[2 * i]) / 1e6;
      o.dispatches++;
    });
    for (const b of [resolved, staging]) b.destroy();
    this.#query!.destroy();
    return out;
  }

  #passFor(label: string): GPUComputePassEncoder {
    if (this.#query) {
      const i = this.#names.push(label) - 1;
      return this.#pass = this.#encoder.beginComputePass({
        timestampWrites: {
          querySet: this.#query,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
    }
    return this.#pass ??= this.#encoder.beginComputePass();
  }

  #end() {
    this.#pass?.end();
    this.#pass = null;
  }
}
