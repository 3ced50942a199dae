/**
 * Many runs of `train_ch8` as one group on the fused engine: every epoch
 * of every cell in the same dispatches (`FusedCells`), each cell with its
 * own model, data order, lr, θ, activation and sampling, each recorded by
 * its own `Ch8Run` exactly as `train_ch8` records a run alone. A cell
 * that diverges stops and the others go on; cells finish at their own
 * `num_epochs`.
 *
 * @example
 * ```ts
 * const results = await train_cells([
 *   { config: resolveConfig({ seed: 0 }), corpus },
 *   { config: resolveConfig({ seed: 1, activation: "relu" }), corpus },
 * ]);
 * ```
 *
 * @module
 */
import { makeRng } from "../data/prng.ts";
import { seqDataIterSequential } from "../data/iterators.ts";
import type { Corpus } from "../data/vocab.ts";
import { FusedCells, tilesFor } from "../engine/fused.ts";
import { openDevice } from "../engine/gpu.ts";
import { MAX_CELLS } from "../engine/kernels.ts";
import { groupKey, type TrainConfig } from "./config.ts";
import {
  Ch8Run,
  epochResult,
  evalBatchSize,
  evaluate,
  type TrainHooks,
  type TrainResult,
} from "./train.ts";

/** One cell of a group. */
export interface CellRun {
  /** The cell's fully resolved config. */
  config: TrainConfig;
  /** What it trains on. */
  corpus: Corpus;
  /** Its hooks, as train_ch8 takes them, and the record when it finished. */
  hooks?: TrainHooks & {
    /** The cell's record, the moment it finished (before the group ends). */
    onResult?: (result: TrainResult) => void | Promise<void>;
  };
}

export { groupKey } from "./config.ts";

/**
 * Trains the cells together on the fused engine and returns each cell's
 * record, in order. The cells must share a {@linkcode groupKey}. The tfjs
 * backend (for prediction) must already be set.
 */
export async function train_cells(cells: CellRun[]): Promise<TrainResult[]> {
  const keys = new Set(
    cells.map((c) => groupKey(c.config, c.corpus.vocab.length)),
  );
  if (cells.length === 0 || cells.length > MAX_CELLS) {
    throw new Error(`a group holds 1 to ${MAX_CELLS} cells`);
  }
  if (keys.size !== 1 || keys.has(null)) {
    throw new Error("the cells of a group need one shape on the fused engine");
  }
  const runs = cells.map((c) => new Ch8Run(c.config, c.corpus, c.hooks));
  const results: (TrainResult | undefined)[] = cells.map(() => undefined);
  const { batch_size: B, num_steps: T } = cells[0].config;
  let group: FusedCells | null = null;
  const sync = (i: number) => async () =>
    runs[i].net.assign(await group!.values(i));
  // The hook stores a record; once it failed (a full disk), no other
  // record is handed to it, and its error is the group's.
  let hookError: unknown;
  const report = async (i: number) => {
    if (hookError) return;
    try {
      await cells[i].hooks?.onResult?.(results[i]!);
    } catch (e) {
      hookError = e;
    }
  };
  /** A cell that stopped: its texts, its record, stored by the hook. */
  const close = async (i: number) => {
    try {
      await runs[i].finish(sync(i));
    } catch (e) {
      runs[i].fail(e);
    }
    results[i] = runs[i].close();
    await report(i);
  };
  try {
    const { adapter, device } = await openDevice();
    const first = runs[0];
    group = new FusedCells(
      device,
      {
        ...first.net.spec,
        batch_size: B,
        num_steps: T,
        tiles: tilesFor(adapter),
      },
      runs.map((r) => ({ params: r.init, activation: r.config.activation })),
    );
    while (runs.some((r) => r.training)) {
      const active = runs.map((r) => r.training);
      const stats = await group.trainEpochs(
        runs.map((r, i) =>
          active[i] ? { batches: r.batches(), options: r.config } : null
        ),
      );
      const logs = runs.map((r, i) => {
        if (!active[i]) return null;
        const s = stats[i] ??
          { losses: [], grad_norms: [], tokens: 0, seconds: 0 };
        try {
          return r.trained(
            epochResult(s.losses, s.grad_norms, s.tokens, s.seconds),
          );
        } catch (e) {
          r.fail(e);
          return null;
        }
      });
      // Validation for the cells that evaluate this epoch, in one pass;
      // a text too short for batch_size rows is evaluated on tfjs.
      const evaluating = runs.map((r, i) => logs[i] !== null && r.evaluates);
      const onGpu = runs.map((r, i) =>
        evaluating[i] && evalBatchSize(r.corpus.val, r.config) === B
      );
      const vals = await group.evaluateCells(runs.map((r, i) =>
        onGpu[i]
          ? {
            batches: [
              ...seqDataIterSequential(r.corpus.val, B, T, makeRng(0), 0),
            ],
            carry: r.config.sampling === "sequential",
          }
          : null
      ));
      for (const [i, r] of runs.entries()) {
        const log = logs[i];
        if (!log) continue;
        try {
          if (evaluating[i]) {
            const val = onGpu[i] ? Math.exp(vals[i]) : await (async () => {
              await sync(i)();
              return evaluate(r.net, r.corpus.val, r.config);
            })();
            await r.evaluated(log, val, sync(i));
          }
          r.logged(log);
        } catch (e) {
          r.fail(e);
        }
      }
      for (const [i, r] of runs.entries()) {
        if (active[i] && !r.training) await close(i);
      }
      if (hookError) break;
    }
  } catch (e) {
    for (const r of runs) if (r.training) r.fail(e);
  } finally {
    for (const [i, r] of runs.entries()) {
      if (!results[i]) {
        if (r.training) r.fail(new Error("the group stopped"));
        results[i] = r.close();
        await report(i);
      }
    }
    group?.destroy();
  }
  if (hookError) throw hookError;
  return results as TrainResult[];
}
