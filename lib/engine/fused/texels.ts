/**
 * Buffers read as textures: on llvmpipe a texel fetch loads a vec4 for all
 * 8 lanes of a workgroup at once, where a storage load goes lane by lane
 * (`Tiles.textures`). Each cell's part of a buffer is copied into its own
 * layer of an `rgba32float` 2D-array texture, {@linkcode TEXELS} vec4s a
 * row; vec4 i of a cell is texel (i % TEXELS, i / TEXELS) of its layer.
 *
 * @example
 * ```ts
 * const hs = makeTexels(device, cells, floats);
 * copyCells(rec, cells, buffer, 0, floats * 4, hs); // after the buffer is written
 * ```
 *
 * @module
 */
import { TEXELS } from "./wgsl.ts";
import type { Recorder } from "./recorder.ts";

/** Each cell's part of a buffer (`vec4s` of it) in a texture, a layer per cell. */
export interface Texels {
  texture: GPUTexture;
  view: GPUTextureView;
  vec4s: number;
}

/** A texture for `floats` floats of each of `cells` cells. */
export function makeTexels(
  device: GPUDevice,
  cells: number,
  floats: number,
): Texels {
  const vec4s = Math.ceil(floats / 4);
  const texture = device.createTexture({
    size: [TEXELS, Math.ceil(vec4s / TEXELS), cells],
    format: "rgba32float",
    usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
  });
  return {
    texture,
    view: texture.createView({ dimension: "2d-array" }),
    vec4s,
  };
}

/** Records the copy of each cell's `to.vec4s` from `src` (from byte `at`, `bytes` a cell) into its layer of `to`. */
export function copyCells(
  rec: Recorder,
  cells: number,
  src: GPUBuffer,
  at: number,
  bytes: number,
  to: Texels,
): void {
  for (let c = 0; c < cells; c++) {
    rec.toTexture(src, at + c * bytes, to.texture, c, to.vec4s, TEXELS);
  }
}
