/**
 * One WebGPU device as the fused engine uses it: each kernel compiled once
 * (pipelines are shared by every model on the device, whatever its size),
 * bind groups made on first use from resources named as the kernel names
 * its bindings, uniform structs (a dispatch's `sizes`) made once per
 * distinct value, each buffer's per-cell stride (from which a bind
 * group's `cells` uniform is made), and the device's first error kept for
 * the next read-back to throw.
 *
 * @example
 * ```ts
 * const gpu = Gpu.of(device);
 * pass.setPipeline(gpu.pipeline(k.colsum));
 * pass.setBindGroup(0, gpu.bind(k.colsum, { sizes: { rows: 8, N: 4 }, D: d, G: g }));
 * ```
 *
 * @module
 */
import {
  type Binding,
  elementBytes,
  isStored,
  type Kernel,
  packStruct,
  type StructValues,
  UNIFORM_BYTES,
} from "./wgsl.ts";

/** A whole buffer, or `size` bytes of it from `offset`. */
export type Resource = GPUBuffer | {
  buffer: GPUBuffer;
  offset: number;
  size: number;
};

/**
 * What a dispatch binds to each of a kernel's bindings, by name: a buffer
 * (or a range of one), a texture's view, a uniform struct's values, or
 * null for one this variant of the kernel does not read (an unused one is
 * bound to a placeholder). The `cells` uniform is made here.
 */
export type Resources = Record<
  string,
  Resource | GPUTextureView | StructValues | null
>;

const isResource = (r: Resource | StructValues): r is Resource =>
  r instanceof GPUBuffer || "buffer" in r;

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
  /** Placeholders for unused bindings, by access (a dispatch may not bind one buffer both read-only and read-write). */
  readonly #spare: Partial<
    Record<Binding["access"], GPUBuffer | GPUTextureView>
  > = {};
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
      entries: k.bindings.map((b, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        ...(b.access === "texture"
          ? {
            texture: {
              sampleType: "unfilterable-float",
              viewDimension: "2d-array",
            },
          } as const
          : { buffer: { type: BUFFER_TYPE[b.access] } }),
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
  bind(k: Kernel, resources: Resources): GPUBindGroup {
    const pipeline = this.pipeline(k);
    const given = new Set(Object.keys(resources));
    const bound = k.bindings.map((b): Resource | GPUTextureView => {
      if (b.name === "cells") return this.#cells(k, resources);
      if (!given.delete(b.name)) {
        throw new Error(`${k.label}: no resource for binding ${b.name}`);
      }
      const r = resources[b.name];
      if (r === null) return this.#placeholder(b);
      if ((b.access === "texture") !== (r instanceof GPUTextureView)) {
        throw new Error(
          `${k.label}: binding ${b.name} takes a ${
            b.access === "texture" ? "texture" : "buffer"
          }`,
        );
      }
      if (r instanceof GPUTextureView) return r;
      if (b.struct && !isResource(r)) {
        return this.#uniform(b.name, packStruct(b.struct, r));
      }
      if (!isResource(r)) {
        throw new Error(`${k.label}: binding ${b.name} takes a buffer`);
      }
      return r;
    });
    if (given.size) {
      throw new Error(`${k.label}: no binding named ${[...given].join(", ")}`);
    }
    const key = `${this.#id(pipeline)}|${
      bound.map((r) =>
        r instanceof GPUBuffer || r instanceof GPUTextureView
          ? `${this.#id(r)}`
          : `${this.#id(r.buffer)}:${r.offset}:${r.size}`
      ).join("|")
    }`;
    let group = this.#groups.get(key);
    if (group) return group;
    group = this.device.createBindGroup({
      label: k.label,
      layout: pipeline.getBindGroupLayout(0),
      entries: bound.map((r, binding) => ({
        binding,
        resource: r instanceof GPUBuffer ? { buffer: r } : r,
      })),
    });
    this.#groups.set(key, group);
    return group;
  }

  /** The `cells` uniform of a dispatch: each storage binding's elements per cell, from its buffer's stride. */
  #cells(k: Kernel, resources: Resources): GPUBuffer {
    const words = new Uint32Array(
      Math.max(4, Math.ceil(k.bindings.length / 4) * 4),
    );
    k.bindings.filter(isStored).forEach((b, i) => {
      const r = resources[b.name];
      const buffer = !r || r instanceof GPUTextureView
        ? null
        : r instanceof GPUBuffer
        ? r
        : "buffer" in r
        ? r.buffer as GPUBuffer
        : null;
      words[i] = buffer
        ? (this.#strides.get(buffer) ?? 0) / elementBytes(b.type)
        : 0;
    });
    return this.#uniform("cells", new Uint8Array(words.buffer));
  }

  /** A buffer or texture for a binding a kernel's variant does not read. */
  #placeholder(b: Binding): GPUBuffer | GPUTextureView {
    if (b.access === "texture") {
      return this.#spare.texture ??= this.device.createTexture({
        size: [1, 1, 1],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING,
      }).createView({ dimension: "2d-array" });
    }
    const uniform = b.access === "uniform";
    return this.#spare[b.access] ??= this.device.createBuffer({
      size: uniform ? UNIFORM_BYTES : 16,
      usage: uniform ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE,
    });
  }

  /**
   * Says that `buffer` holds its cells one after another, `bytes` apart
   * (a buffer not named here is shared: stride 0).
   */
  perCell(buffer: GPUBuffer, bytes: number): void {
    this.#strides.set(buffer, bytes);
  }

  /** A uniform buffer holding `bytes`, made once per distinct value. */
  #uniform(kind: string, bytes: Uint8Array<ArrayBuffer>): GPUBuffer {
    const key = `${kind}:${bytes.join(",")}`;
    let b = this.#steps.get(key);
    if (!b) {
      b = this.device.createBuffer({
        size: bytes.byteLength,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(b, 0, bytes);
      this.#steps.set(key, b);
    }
    return b;
  }

  /** Drops the bind groups that use `resource` (before it is destroyed). */
  forget(resource: GPUBuffer | GPUTextureView): void {
    const id = this.#ids.get(resource);
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
 * one after another share its compiled pipelines. The device asks for the
 * largest buffers and bindings the adapter offers (groups of cells are
 * sized by them). Throws when there is no adapter; a lost device is
 * opened again on the next call.
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
    const { maxBufferSize, maxStorageBufferBindingSize } = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: { maxBufferSize, maxStorageBufferBindingSize },
    });
    device.lost.then(() => opened = undefined);
    return { adapter, device };
  })();
}
