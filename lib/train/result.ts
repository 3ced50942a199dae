/**
 * A run's record as `train_ch8` returns it (its epochs, curves, samples),
 * the version of the code that computed it and the data it needs. None of
 * it loads tfjs or an engine's buffers: the runner, the reports and the web
 * app read and check records with this module alone.
 *
 * @module
 */
import { BLAS_VERSION, FUSED_VERSION } from "../engine/version.ts";
import type { TrainConfig } from "../config/config.ts";

/**
 * Version of the code that computes a run's numbers. Experiment cell ids
 * include it, so stored results are recomputed when it changes; bump it with
 * any change that alters numbers.
 */
export const ENGINE_VERSION = "reference/1";

/** The version of the engine `config` trains with (cell ids include it). */
export function engineVersion(config: Pick<TrainConfig, "engine">): string {
  return {
    fused: FUSED_VERSION,
    blas: BLAS_VERSION,
    reference: ENGINE_VERSION,
  }[
    config.engine
  ];
}

/**
 * Fewest training tokens that give every epoch at least one minibatch,
 * whatever the random offset: batch_size · num_steps, plus the largest
 * offset (num_steps) and the one token Y runs ahead of X.
 */
export function minTrainTokens(
  config: Pick<TrainConfig, "batch_size" | "num_steps">,
): number {
  return config.batch_size * config.num_steps + config.num_steps + 1;
}

/** One epoch's line in the record. */
export interface EpochLog {
  /** The epoch, from 1. */
  epoch: number;
  /** Training perplexity: exp of the mean loss over the epoch's minibatches. */
  train_ppl: number;
  /** Set on evaluation epochs. */
  val_ppl?: number | null;
  /** Training tokens per second in this epoch. */
  tokens_per_sec: number;
  /** Wall time of the epoch's training. */
  seconds: number;
  /** Mean global gradient norm of its minibatches, before clipping. */
  grad_norm_mean: number;
  /** Largest global gradient norm of its minibatches, before clipping. */
  grad_norm_max: number;
  /** Fraction of minibatches whose norm exceeded θ (0 with clipping off). */
  clipped_fraction: number;
  /** Greedy continuation of the first prefix, on evaluation epochs. */
  sample?: string;
}

/** A generated text. */
export interface Sample {
  /** The text the model warmed up on. */
  prefix: string;
  /** The most likely character each step, or one drawn from the sharpened distribution. */
  decoding: "greedy" | "sample";
  /** Sharpening exponent for `decoding: "sample"`. */
  alpha?: number;
  /** The prefix and what was generated after it. */
  text: string;
  /** Mean log-probability (nats) of the generated characters under the model (absent in cells stored before it was recorded). */
  mean_log_prob?: number;
}

/** The outcome of {@linkcode train_ch8}. */
export interface TrainResult {
  /** `done`, `diverged` (a non-finite loss stopped it) or `failed` (an error). */
  status: "done" | "diverged" | "failed";
  /** Epoch whose loss was not finite, for `diverged`. */
  diverged_epoch: number | null;
  /** Error message, for `failed`. */
  error: string | null;
  /** Training perplexity, one number per completed epoch. */
  train_ppl: number[];
  /** Validation perplexity at each evaluation epoch. */
  val_ppl: { epoch: number; ppl: number }[];
  /** Training tokens per second over all epochs (evaluation excluded). */
  tokens_per_sec: number;
  /** One log per trained epoch. */
  epochs: EpochLog[];
  /** The last epoch's training perplexity, the last and the lowest validation perplexity. */
  final: {
    train_ppl: number | null;
    val_ppl: number | null;
    best_val_ppl: number | null;
  };
  /** Over all minibatches: mean and largest gradient norm, share clipped. */
  grad_norm: { mean: number; max: number; clipped_fraction: number };
  /** Texts generated after training. */
  samples: Sample[];
  /**
   * Exercise 1: the trained one-hot model's largest |Δ logit| against itself
   * run as an identity embedding over the first 200 validation tokens
   * (one-hot runs; absent in cells stored before it was recorded).
   */
  onehot_as_embedding?: number;
  /** Wall time of the whole run, in seconds. */
  wall_seconds: number;
}

/** A result with no epochs yet: status `done`, empty curves, zero statistics. */
export function emptyResult(): TrainResult {
  return {
    status: "done",
    diverged_epoch: null,
    error: null,
    train_ppl: [],
    val_ppl: [],
    tokens_per_sec: 0,
    epochs: [],
    final: { train_ppl: null, val_ppl: null, best_val_ppl: null },
    grad_norm: { mean: 0, max: 0, clipped_fraction: 0 },
    samples: [],
    wall_seconds: 0,
  };
}
