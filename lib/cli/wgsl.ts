/**
 * `deno task wgsl [kernel…]`: the fused engine's kernels as compiled for a
 * shape (the chapter's unless flags say otherwise): each one's WGSL with
 * its constants, its loops written out and its bindings numbered, as
 * WebGPU gets it. `--list` names the kernels and their files.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { CONFIG, resolveConfig } from "../config/config.ts";
import { groupSpec } from "../engine/group.ts";
import { groupShape } from "../engine/fused/fused.ts";
import { allKernels, kernelsFor } from "../engine/fused/kernels.ts";
import { TILES, tilesFor } from "../engine/fused/tiles.ts";
import { parseCommand, parseCount, runMain } from "./common.ts";

/** The config keys that decide a kernel's shape, offered as flags. */
const SHAPE_KEYS = [
  "num_hiddens",
  "num_steps",
  "batch_size",
  "input",
  "embed_size",
] as const;

/** WebGPU's default limits, where there is no adapter to ask. */
const DEFAULT_LIMITS = {
  maxUniformBufferBindingSize: 65536,
  minUniformBufferOffsetAlignment: 256,
};

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task wgsl")
    .description(
      "Print the fused engine's kernels as compiled for a shape (default: the chapter's).",
    )
    .argument("[kernels...]", "kernels to print (default: all)")
    .option("--list", "name the kernels and their WGSL files")
    .option("--tiles <kind>", "cpu or gpu tiles (default: this adapter's)")
    .option("--cells <n>", "cells trained together", "1")
    .option("--vocab_size <n>", "tokens in the vocabulary", "28");
  for (const key of SHAPE_KEYS) {
    const flag = CONFIG.flags().find((f) => f.flag.startsWith(`--${key} `))!;
    program.option(flag.flag, flag.help);
  }
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<Record<string, string | boolean>>();
  const partial: Record<string, unknown> = { engine: "fused" };
  for (const key of SHAPE_KEYS) {
    if (typeof opts[key] === "string") {
      partial[key] = CONFIG.parseFlag(key, opts[key] as string);
    }
  }
  const config = resolveConfig(partial, "flags");
  const cells = parseCount(opts.cells as string, "--cells");
  const V = parseCount(opts.vocab_size as string, "--vocab_size");
  const adapter = await navigator.gpu?.requestAdapter() ?? null;
  const tiles = (opts.tiles ?? (adapter ? tilesFor(adapter) : "cpu")) as string;
  if (tiles !== "cpu" && tiles !== "gpu") {
    throw new UserError(
      `--tiles: expected cpu or gpu, got ${JSON.stringify(tiles)}`,
    );
  }
  const spec = groupSpec(config, V, config.num_steps);
  const shape = groupShape(spec, cells, adapter?.limits ?? DEFAULT_LIMITS);
  const kernels = allKernels(kernelsFor(shape, TILES[tiles]));
  const wanted = program.args.length ? program.args : Object.keys(kernels);
  for (const name of wanted) {
    if (!(name in kernels)) {
      throw new UserError(
        `no kernel ${JSON.stringify(name)} (kernels: ${
          Object.keys(kernels).join(", ")
        })`,
      );
    }
  }
  for (const name of wanted) {
    const k = kernels[name];
    if (opts.list) {
      console.log(`${name.padEnd(12)} ${k.label}`);
      continue;
    }
    console.log(
      `// ==== ${name}: ${k.label} (B=${shape.B} T=${shape.T} H=${config.num_hiddens} V=${V}, ${tiles} tiles, ${cells} cell${
        cells === 1 ? "" : "s"
      })`,
    );
    console.log(k.code);
  }
  return 0;
}

if (import.meta.main) await runMain(main);
