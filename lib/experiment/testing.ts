/**
 * Test fixtures: stored cells as the runner writes them, with made-up curves,
 * for the runner, report, index and CLI tests.
 *
 * @module
 */
import type { CellRecord } from "./cell.ts";
import type { ExperimentSpec } from "./spec.ts";
import { resolveConfig, type TrainConfig } from "../train/config.ts";

/** The experiment the fixture cells belong to. */
export const spec: ExperimentSpec = {
  name: "fixture",
  description: "A stored fixture.",
  exercises: ["4. No clipping?"],
  grid: { clip: [1, "off"] },
  seeds: [0, 1],
};

/** A stored cell as the runner writes it, with a made-up perplexity curve. */
export function fixtureCell(
  over: Partial<TrainConfig>,
  curve: number[],
  status: CellRecord["status"] = "done",
): CellRecord {
  const config = resolveConfig({ num_epochs: 3, ...over });
  const val = curve.map((p, i) => ({ epoch: i + 1, ppl: p * 1.5 }));
  return {
    schema: "rnnlab.cell/1",
    id: `${config.clip}-${config.seed}`.padEnd(16, "0"),
    experiment: "fixture",
    engine: "reference/1",
    point: { clip: config.clip },
    config,
    overrides: {},
    status,
    diverged_epoch: status === "diverged" ? curve.length + 1 : null,
    error: null,
    train_ppl: curve,
    val_ppl: val,
    tokens_per_sec: 1000 + config.seed,
    epochs: [],
    final: {
      train_ppl: curve.at(-1) ?? null,
      val_ppl: val.at(-1)?.ppl ?? null,
      best_val_ppl: val.length ? Math.min(...val.map((v) => v.ppl)) : null,
    },
    grad_norm: {
      mean: 0.5,
      max: config.clip === "off" ? 40 : 2,
      clipped_fraction: config.clip === "off" ? 0 : 0.25,
    },
    samples: status === "done"
      ? [{
        prefix: "time traveller",
        decoding: "greedy",
        text: `time traveller seed${config.seed}`,
      }]
      : [],
    wall_seconds: 1,
    corpus: {
      name: "timemachine",
      source: "x",
      sha1: "abc",
      corpus_length: 1,
      train_tokens: 1,
      val_tokens: 1,
      vocab: [],
    },
    env: fixtureEnv("llvmpipe"),
  };
}

/** A stored cell's environment: WebGPU on the adapter named `description`. */
export function fixtureEnv(
  description: string,
): NonNullable<CellRecord["env"]> {
  return {
    deno: "2.9.6",
    v8: "",
    typescript: "",
    os: "linux",
    arch: "x86_64",
    cpu: "test cpu",
    cpu_count: 2,
    git_commit: "deadbeef",
    git_dirty: false,
    backend: "webgpu",
    tfjs: "4.22.0",
    adapter: { description },
  };
}
