/**
 * Test fixtures: stored cells as the runner writes them, with made-up curves,
 * for the runner, report, index and CLI tests.
 *
 * @module
 */
import { CELL_SCHEMA, type CellRecord } from "./cell.ts";
import type { ExperimentSpec } from "./spec.ts";
import { resolveConfig, type TrainConfig } from "../config/config.ts";
import { engineVersion } from "../train/result.ts";
import { cellId } from "./grid.ts";

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
    schema: CELL_SCHEMA,
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

/**
 * A finished run of `config` as the runner stores it, valid in every check
 * of `checkCell`: its id hashes its config, the corpus SHA-1 `sha1` and its
 * engine, and its curves agree with each other and with its status.
 */
export async function storedRun(
  config: TrainConfig,
  options: { experiment?: string; alphas?: number[]; sha1?: string } = {},
): Promise<CellRecord> {
  const { experiment = "fixture", alphas = [], sha1 = "sha" } = options;
  const train_ppl = Array.from(
    { length: config.num_epochs },
    (_, i) => 2 + 10 / (i + 1),
  );
  const val_ppl = train_ppl
    .map((p, i) => ({ epoch: i + 1, ppl: p * 1.5 }))
    .filter((v) =>
      v.epoch % config.eval_every === 0 || v.epoch === config.num_epochs
    );
  return {
    schema: CELL_SCHEMA,
    id: await cellId(config, sha1),
    experiment,
    engine: engineVersion(config),
    point: {},
    config,
    overrides: {},
    status: "done",
    diverged_epoch: null,
    error: null,
    train_ppl,
    val_ppl,
    tokens_per_sec: 1000,
    epochs: train_ppl.map((p, i) => {
      const val = val_ppl.find((v) => v.epoch === i + 1);
      return {
        epoch: i + 1,
        train_ppl: p,
        tokens_per_sec: 1000,
        seconds: 1,
        grad_norm_mean: 0.5,
        grad_norm_max: 1,
        clipped_fraction: 0,
        ...(val ? { val_ppl: val.ppl, sample: "tt" } : {}),
      };
    }),
    final: {
      train_ppl: train_ppl.at(-1)!,
      val_ppl: val_ppl.at(-1)!.ppl,
      best_val_ppl: Math.min(...val_ppl.map((v) => v.ppl)),
    },
    grad_norm: { mean: 0.5, max: 1, clipped_fraction: 0 },
    samples: [
      { prefix: "t", decoding: "greedy", text: "tt" },
      ...alphas.map((alpha) => ({
        prefix: "t",
        decoding: "sample" as const,
        alpha,
        text: "ta",
      })),
    ],
    wall_seconds: 1,
    corpus: {
      name: config.corpus,
      source: "x",
      sha1,
      corpus_length: 1,
      train_tokens: 1,
      val_tokens: 1,
      vocab: [],
    },
    env: fixtureEnv("llvmpipe"),
  };
}
