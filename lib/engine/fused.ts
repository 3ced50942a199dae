/**
 * The fused engine (work in progress): the chapter's RNN trained with
 * explicit backpropagation through time in WGSL on a WebGPU device of its
 * own, every kernel of a minibatch encoded into one command buffer. This
 * module computes a minibatch's loss and gradients; the training loop on top
 * of it comes next (issue 4).
 *
 * @module
 */
import type { ParamValues } from "../model/rnn.ts";
import {
  type Dims,
  outputLoss,
  stepBackward,
  stepForward,
  weightGrad,
  WORKGROUP,
} from "./kernels.ts";

const PARAMS = ["W_xh", "W_hh", "b_h", "W_hq", "b_q"] as const;
type ParamName = typeof PARAMS[number];

/** Loss and gradients of one minibatch, read back. */
export interface Gradients {
  /** Mean cross-entropy over the minibatch. */
  loss: number;
  grads: Record<ParamName, Float32Array>;
  /** The last state, (batch, num_hiddens). */
  H: Float32Array;
}

/**
 * One model on one device: parameters, activations and gradients as GPU
 * buffers, pipelines and bind groups made once.
 *
 * @example
 * ```ts
 * const device = await (await navigator.gpu.requestAdapter())!.requestDevice();
 * const net = new FusedRnn(device, { B: 32, T: 35, H: 512, V: 28 }, "tanh", params);
 * const { loss, grads } = await net.gradients(X, Y, null);
 * ```
 */
export class FusedRnn {
  readonly device: GPUDevice;
  readonly dims: Dims;
  readonly #buffers: Record<string, GPUBuffer> = {};
  readonly #forward: GPUBindGroup[] = [];
  readonly #backward: GPUBindGroup[] = [];
  readonly #pipelines: Record<string, GPUComputePipeline> = {};
  readonly #groups: Record<string, GPUBindGroup> = {};

  constructor(
    device: GPUDevice,
    dims: Dims,
    kind: "tanh" | "relu",
    params: ParamValues,
  ) {
    this.device = device;
    this.dims = dims;
    const { B, T, H, V } = dims;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
      GPUBufferUsage.COPY_DST;
    const buffer = (name: string, floats: number, usage = storage) =>
      this.#buffers[name] = device.createBuffer({
        label: name,
        size: Math.max(4, floats * 4),
        usage,
      });
    for (const name of PARAMS) {
      const { values } = params[name];
      buffer(name, values.length);
      device.queue.writeBuffer(
        this.#buffers[name],
        0,
        values as Float32Array<ArrayBuffer>,
      );
      buffer(`d${name}`, values.length);
    }
    buffer("x", T * B);
    buffer("y", T * B);
    buffer("hs", (T + 1) * B * H);
    buffer("dlogits", T * B * V);
    buffer("losses", T * B);
    buffer("da", T * B * H);
    const pipeline = (name: string, code: string) =>
      this.#pipelines[name] = device.createComputePipeline({
        label: name,
        layout: "auto",
        compute: {
          module: device.createShaderModule({ label: name, code }),
          entryPoint: "main",
        },
      });
    const group = (p: GPUComputePipeline, names: (string | GPUBuffer)[]) =>
      device.createBindGroup({
        layout: p.getBindGroupLayout(0),
        entries: names.map((n, binding) => ({
          binding,
          resource: { buffer: typeof n === "string" ? this.#buffers[n] : n },
        })),
      });
    const forward = pipeline("forward", stepForward(dims, kind));
    const backward = pipeline("backward", stepBackward(dims, kind));
    for (let t = 0; t < T; t++) {
      const step = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(step, 0, new Uint32Array([t, 0, 0, 0]));
      this.#forward.push(
        group(forward, [step, "x", "W_xh", "W_hh", "b_h", "hs"]),
      );
      this.#backward.push(
        group(backward, [step, "hs", "dlogits", "W_hq", "W_hh", "da"]),
      );
    }
    this.#groups.output = group(pipeline("output", outputLoss(dims)), [
      "hs",
      "y",
      "W_hq",
      "b_q",
      "dlogits",
      "losses",
    ]);
    for (const name of PARAMS) {
      this.#groups[`d${name}`] = group(
        pipeline(`d${name}`, weightGrad(dims, name)),
        ["hs", "da", "dlogits", "x", `d${name}`],
      );
    }
  }

  /**
   * Loss and gradients of one minibatch: X and Y are (batch, num_steps)
   * token rows as the iterators give them; H0 the initial state (zeros when
   * null).
   */
  async gradients(
    X: Int32Array,
    Y: Int32Array,
    H0: Float32Array | null,
  ): Promise<Gradients> {
    const { B, T, H, V } = this.dims;
    const { device } = this;
    // Time-major rows, as the kernels index them.
    const x = new Uint32Array(T * B), y = new Uint32Array(T * B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        x[t * B + b] = X[b * T + t];
        y[t * B + b] = Y[b * T + t];
      }
    }
    device.queue.writeBuffer(this.#buffers.x, 0, x);
    device.queue.writeBuffer(this.#buffers.y, 0, y);
    device.queue.writeBuffer(
      this.#buffers.hs,
      0,
      (H0 ?? new Float32Array(B * H)) as Float32Array<ArrayBuffer>,
    );
    const encoder = device.createCommandEncoder();
    const dispatch = (name: string, group: GPUBindGroup, threads: number) => {
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.#pipelines[name]);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.ceil(threads / WORKGROUP));
      pass.end();
    };
    for (let t = 0; t < T; t++) dispatch("forward", this.#forward[t], B * H);
    dispatch("output", this.#groups.output, T * B);
    for (let t = T - 1; t >= 0; t--) {
      dispatch("backward", this.#backward[t], B * H);
    }
    const sizes: Record<ParamName, number> = {
      W_xh: V * H,
      W_hh: H * H,
      b_h: H,
      W_hq: H * V,
      b_q: V,
    };
    for (const name of PARAMS) {
      dispatch(`d${name}`, this.#groups[`d${name}`], sizes[name]);
    }
    device.queue.submit([encoder.finish()]);
    const read = (name: string, offset = 0, floats?: number) =>
      this.#read(
        this.#buffers[name],
        offset,
        floats ?? this.#buffers[name].size / 4,
      );
    const losses = await read("losses");
    const grads = Object.fromEntries(
      await Promise.all(PARAMS.map(async (n) => [n, await read(`d${n}`)])),
    ) as Record<ParamName, Float32Array>;
    return {
      loss: losses.reduce((a, l) => a + l, 0) / losses.length,
      grads,
      H: await read("hs", T * B * H * 4, B * H),
    };
  }

  async #read(
    source: GPUBuffer,
    offset: number,
    floats: number,
  ): Promise<Float32Array> {
    const staging = this.device.createBuffer({
      size: floats * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset, staging, 0, floats * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Frees the buffers. */
  destroy(): void {
    for (const b of Object.values(this.#buffers)) b.destroy();
  }
}
