/**
 * The training loop of `train_ch8`, for a group of runs: every epoch of
 * every run by one engine group, validation for the runs that evaluate,
 * each run closed into its record the moment it stops (finished, diverged
 * or failed) while the others go on. It opens no engine and loads no
 * tfjs: the group is given, so a browser drives the same loop.
 *
 * @module
 */
import type { CellEval, EngineGroup, EpochStats } from "../engine/group.ts";
import type { Ch8Run, RunState } from "./run.ts";
import type { EpochLog, TrainResult } from "./result.ts";
import type { ParamValues } from "../model/params.ts";

/** An epoch the group was asked for, and what is read after it. */
interface Asked {
  /** The runs it trains. */
  active: boolean[];
  stats: Promise<(EpochStats | null)[]>;
  /** Each run's held-out minibatches, where it evaluates after it. */
  evals: CellEval[];
  losses: Promise<number[]> | null;
  /** Each run's weights after it, where they are needed. */
  values: (Promise<ParamValues> | null)[];
  /** Whether the runs' states are handed over after it. */
  checkpoint: boolean;
}

/** When the loop hands over where each run stands, for it to be kept (a checkpoint). */
export interface Checkpoints {
  /**
   * Least wall time between two checkpoints of the runs in training, in
   * seconds: after the first epoch asked for this long after the last
   * checkpoint's (0: after every epoch), every run still training is
   * handed over.
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
  /**
   * Asks the group for the epoch `ahead` epochs after the last one
   * recorded, of every run that would still train then, with what is read
   * after it (validation, weights for the sample or a checkpoint); null
   * when no run would.
   */
  const ask = (ahead: number): Asked | null => {
    const active = runs.map((r) =>
      r.training && r.epoch + ahead < r.config.num_epochs
    );
    if (!active.some(Boolean)) return null;
    const stats = group.trainEpochs(
      runs.map((r, i) =>
        active[i] ? { batches: r.batches(), options: r.config } : null
      ),
    );
    const evaluates = runs.map((r, i) =>
      active[i] && r.evaluatesAt(r.epoch + ahead + 1)
    );
    const evals = runs.map((r, i) => evaluates[i] ? r.validation() : null);
    const losses = evals.some(Boolean) ? group.evaluate(evals) : null;
    const checkpoint = checkpoints !== undefined &&
      performance.now() - saved >= checkpoints.every_seconds * 1000;
    if (checkpoint) saved = performance.now();
    const values = runs.map((_, i) =>
      evaluates[i] || (checkpoint && active[i]) ? group.values(i) : null
    );
    // Awaited when the epoch is recorded; the loop may end before that.
    for (const p of [stats, losses, ...values]) p?.catch(() => {});
    return { active, stats, evals, losses, values, checkpoint };
  };
  /** Records an epoch the group was asked for, for the runs still training. */
  const record = async (a: Asked) => {
    const stats = await a.stats;
    const live = runs.map((r, i) => a.active[i] && r.training);
    const logs = runs.map((r, i): EpochLog | null => {
      if (!live[i]) return null;
      try {
        return r.trained(
          stats[i] ?? { losses: [], grad_norms: [], tokens: 0, seconds: 0 },
        );
      } catch (e) {
        r.fail(e);
        return null;
      }
    });
    const losses = a.losses ? await a.losses : [];
    for (const [i, r] of runs.entries()) {
      const log = logs[i];
      if (!log) continue;
      try {
        if (r.evaluates) {
          r.evaluated(log, a.evals[i] ? losses[i] : null, await a.values[i]!);
        }
        r.logged(log);
      } catch (e) {
        r.fail(e);
      }
    }
    for (const [i, r] of runs.entries()) {
      if (live[i] && !r.training) await close(i);
    }
    if (a.checkpoint) {
      for (const [i, r] of runs.entries()) {
        if (live[i] && r.training) await save(i, await a.values[i]!);
      }
    }
  };
  let asked: Asked | null = null;
  let next: Asked | null = null;
  try {
    // A run restored at its last epoch has only its texts left.
    for (const [i, r] of runs.entries()) if (!r.training) await close(i);
    for (asked = ask(0); asked; asked = hookError ? null : next ?? ask(0)) {
      // The epoch after is asked for before this one's numbers are awaited,
      // so the device goes on while the host reads them.
      next = group.inOrder ? ask(1) : null;
      await record(asked);
    }
  } catch (e) {
    for (const r of runs) if (r.training) r.fail(e);
  } finally {
    // Nothing asked of the group is left running when it is handed back.
    await Promise.allSettled([asked, next].map((a) => a?.stats));
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
