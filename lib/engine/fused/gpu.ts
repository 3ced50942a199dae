/**
 * One WebGPU device as the fused engine uses it: each kernel compiled once
 * (pipelines are shared by every model on the device, whatever its size),
 * bind groups made on first use from named resources, per-dispatch `Step`
 * uniforms made once per distinct value, each buffer's per-cell stride
 * (from which a bind group's `cells` uniform is made), and the device's
 * first error kept for the next read-back to throw.
 *
 * @example
 * ```ts
 * const gpu = Gpu.of(device);
 * pass.setPipeline(gpu.pipeline(colsum));
 * pass.setBindGroup(0, gpu.bind(colsum, { step: gpu.step({ n: 8, N: 4 }), D: d, G: g }));
 * ```
 *
 * @module
 */
import {
  cellBindings,
  elementBytes,
  type Kernel,
  type StepValues,
  stepWords,
} from "./wgsl.ts";

/** A whole buffer, or `size` bytes of it from `offset`. */
export type Resource = GPUBuffer | {
  buffer: GPUBuffer;
  offset: number;
  size: number;
};

/** Buffer binding types of a layout, by a binding's access. */
const BUFFER_TYPE = {
  uniform: "uniform",
  read: "read-only-storage",
  read_write: "storage",
} as const;

const known = new WeakMap<GPUDevice, Gpu>();

/** The pipelines, bind groups and step uniforms of one device. */
export class Gpu {
  readonly device: GPUDevice;
  /** The device's first validation or out-of-memory error, if any. */
  error: string | undefined;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #groups = new Map<string, GPUBindGroup>();
  readonly #steps = new Map<string, GPUBuffer>();
  readonly #strides = new WeakMap<GPUBuffer, number>();
  readonly #ids = new WeakMap<object, number>();
  #nextId = 1;

  private constructor(device: GPUDevice) {
    this.device = device;
    device.addEventListener("uncapturederror", (e) => {
      this.error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** The helper of `device` (one per device). */
  static of(device: GPUDevice): Gpu {
    let gpu = known.get(device);
    if (!gpu) known.set(device, gpu = new Gpu(device));
    return gpu;
  }

  /** Kernels compiled so far on this device. */
  get compiled(): number {
    return this.#pipelines.size;
  }

  /**
   * The pipeline of `k`, made on first use and shared by every model on
   * the device: its layout comes from the kernel's declared bindings.
   */
  pipeline(k: Kernel): GPUComputePipeline {
    let p = this.#pipelines.get(k.code);
    if (p) return p;
    const layout = this.device.createBindGroupLayout({
      label: k.label,
      entries: [...k.bindings.map(([, b]) => b.access), "uniform" as const]
        .map((access, binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: BUFFER_TYPE[access] },
        })),
    });
    p = this.device.createComputePipeline({
      label: k.label,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: {
        module: this.device.createShaderModule({
          label: k.label,
          code: k.code,
        }),
        entryPoint: "main",
      },
    });
    this.#pipelines.set(k.code, p);
    return p;
  }

  /** The bind group of `k` over `resources` (by binding name), made on first use. */
  bind<N extends string>(k: Kernel<N>, resources: Record<N, Resource>) {
    const pipeline = this.pipeline(k);
    // Each storage binding's elements per cell, from its buffer's stride.
    const cells = new Uint32Array(
      Math.max(4, Math.ceil(cellBindings(k).length / 4) * 4),
    );
    cellBindings(k).forEach(([name, b], i) => {
      const r = resources[name as N];
      const buffer = r instanceof GPUBuffer ? r : r.buffer;
      cells[i] = (this.#strides.get(buffer) ?? 0) / elementBytes(b.type);
    });
    const parts = k.bindings.map(([name]) => {
      const r = resources[name];
      return r instanceof GPUBuffer
        ? `${this.#id(r)}`
        : `${this.#id(r.buffer)}:${r.offset}:${r.size}`;
    });
    const key = `${this.#id(pipeline)}|${parts.join("|")}|${cells.join(",")}`;
    let group = this.#groups.get(key);
    if (group) return group;
    group = this.device.createBindGroup({
      label: k.label,
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        ...k.bindings.map(([name], binding) => {
          const r = resources[name];
          return {
            binding,
            resource: r instanceof GPUBuffer ? { buffer: r } : r,
          };
        }),
        {
          binding: k.bindings.length,
          resource: { buffer: this.#uniform("cells", cells) },
        },
      ],
    });
    this.#groups.set(key, group);
    return group;
  }

  /** A uniform buffer holding `values` as a `Step`, made once per distinct value. */
  step(values: StepValues): GPUBuffer {
    return this.#uniform("step", stepWords(values));
  }

  /**
   * Says that `buffer` holds its cells one after another, `bytes` apart
   * (a buffer not named here is shared: stride 0).
   */
  perCell(buffer: GPUBuffer, bytes: number): void {
    this.#strides.set(buffer, bytes);
  }

  /** A uniform buffer holding `words`, made once per distinct value. */
  #uniform(kind: string, words: Uint32Array<ArrayBuffer>): GPUBuffer {
    const key = `${kind}:${words.join(",")}`;
    let b = this.#steps.get(key);
    if (!b) {
      b = this.device.createBuffer({
        size: words.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(b, 0, words);
      this.#steps.set(key, b);
    }
    return b;
  }

  /** Drops the bind groups that use `buffer` (before it is destroyed). */
  forget(buffer: GPUBuffer): void {
    const id = this.#ids.get(buffer);
    if (id === undefined) return;
    for (const key of [...this.#groups.keys()]) {
      if (key.split("|").slice(1).some((p) => p.split(":")[0] === `${id}`)) {
        this.#groups.delete(key);
      }
    }
  }

  #id(o: object): number {
    let id = this.#ids.get(o);
    if (id === undefined) this.#ids.set(o, id = this.#nextId++);
    return id;
  }
}

let opened: Promise<{ adapter: GPUAdapter; device: GPUDevice }> | undefined;

/**
 * This process's WebGPU adapter and device, opened once: models trained
 * one after another share its compiled pipelines. Throws when there is no
 * adapter; a lost device is opened again on the next call.
 */
export function openDevice(): Promise<
  { adapter: GPUAdapter; device: GPUDevice }
> {
  return opened ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) {
      opened = undefined;
      throw new Error(
        "engine fused needs WebGPU, and no adapter was found: use --engine blas or --engine reference --backend wasm",
      );
    }
    const device = await adapter.requestDevice();
    device.lost.then(() => opened = undefined);
    return { adapter, device };
  })();
}
