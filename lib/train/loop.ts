/**
 * The training loop of `train_ch8`, for a group of runs: every epoch of
 * every run by one engine group, validation for the runs that evaluate,
 * each run closed into its record the moment it stops (finished, diverged
 * or failed) while the others go on. It opens no engine and loads no
 * tfjs: the group is given, so a browser drives the same loop.
 *
 * @module
 */
import type { EngineGroup } from "../engine/group.ts";
import type { Ch8Run, RunState } from "./run.ts";
import type { EpochLog, TrainResult } from "./result.ts";
import type { ParamValues } from "../model/params.ts";

/** When the loop hands over where each run stands, for it to be kept (a checkpoint). */
export interface Checkpoints {
  /**
   * Least wall time between two checkpoints of the runs in training, in
   * seconds: after the first epoch that ends this long after the last (0:
   * after every epoch), every run still training is handed over.
   */
  every_seconds: number;
  /** Also hand over each finished run's state after its last epoch (a search goes on from it). */
  final?: boolean;
  /** Keeps run i's state (awaited; an error it throws stops the loop, as `onResult`'s). */
  save: (i: number, state: RunState) => void | Promise<void>;
}

/**
 * Trains `runs` with `group` (cell i is run i) until each has stopped,
 * and returns their records in order. `onResult` sees each record the
 * moment its run stops (it stores it); once it has thrown, no other
 * record is handed to it, the loop ends, and its error is thrown.
 * With `checkpoints`, the runs in training are handed over every
 * `every_seconds` (grouped runs together, after the same epoch).
 *
 * @example
 * ```ts
 * const runs = configs.map((c) => new Ch8Run(c, corpus));
 * const records = await trainGroup(runs, group);
 * ```
 */
export async function trainGroup(
  runs: Ch8Run[],
  group: EngineGroup,
  onResult?: (i: number, result: TrainResult) => void | Promise<void>,
  checkpoints?: Checkpoints,
): Promise<TrainResult[]> {
  const results: (TrainResult | undefined)[] = runs.map(() => undefined);
  let hookError: unknown;
  const report = async (i: number) => {
    if (hookError) return;
    try {
      await onResult?.(i, results[i]!);
    } catch (e) {
      hookError = e;
    }
  };
  const save = async (i: number, values: ParamValues) => {
    if (hookError) return;
    try {
      await checkpoints!.save(i, runs[i].snapshot(values));
    } catch (e) {
      hookError = e;
    }
  };
  /** A run that stopped: its texts, its record, handed over. */
  const close = async (i: number) => {
    try {
      if (runs[i].finished) {
        const values = await group.values(i);
        if (checkpoints?.final) await save(i, values);
        runs[i].finish(values);
      }
    } catch (e) {
      runs[i].fail(e);
    }
    results[i] = runs[i].close();
    await report(i);
  };
  let saved = performance.now();
  try {
    // A run restored at its last epoch has only its texts left.
    for (const [i, r] of runs.entries()) if (!r.training) await close(i);
    while (runs.some((r) => r.training) && !hookError) {
      const active = runs.map((r) => r.training);
      const stats = await group.trainEpochs(
        runs.map((r, i) =>
          active[i] ? { batches: r.batches(), options: r.config } : null
        ),
      );
      const logs = runs.map((r, i): EpochLog | null => {
        if (!active[i]) return null;
        try {
          return r.trained(
            stats[i] ?? { losses: [], grad_norms: [], tokens: 0, seconds: 0 },
          );
        } catch (e) {
          r.fail(e);
          return null;
        }
      });
      // Validation for the runs that evaluate this epoch, in one pass.
      const evals = runs.map((r, i) =>
        logs[i] !== null && r.evaluates ? r.validation() : null
      );
      const losses = evals.some(Boolean) ? await group.evaluate(evals) : [];
      for (const [i, r] of runs.entries()) {
        const log = logs[i];
        if (!log) continue;
        try {
          if (r.evaluates) {
            r.evaluated(
              log,
              evals[i] ? losses[i] : null,
              await group.values(i),
            );
          }
          r.logged(log);
        } catch (e) {
          r.fail(e);
        }
      }
      for (const [i, r] of runs.entries()) {
        if (active[i] && !r.training) await close(i);
      }
      const now = performance.now();
      if (checkpoints && now - saved >= checkpoints.every_seconds * 1000) {
        for (const [i, r] of runs.entries()) {
          if (r.training) await save(i, await group.values(i));
        }
        saved = now;
      }
    }
  } catch (e) {
    for (const r of runs) if (r.training) r.fail(e);
  } finally {
    for (const [i, r] of runs.entries()) {
      if (results[i]) continue;
      if (r.training) r.fail(new Error("the group stopped"));
      results[i] = r.close();
      await report(i);
    }
  }
  if (hookError) throw hookError;
  return results as TrainResult[];
}
