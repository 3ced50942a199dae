import assert from "node:assert/strict";
import { loadCorpus } from "../data/vocab.ts";
import { PASSAGE } from "../data/testdata.ts";
import { resolveConfig } from "../config/config.ts";
import type {
  CellEpoch,
  CellEval,
  EngineGroup,
  EpochStats,
  Gradients,
} from "../engine/group.ts";
import type { ParamValues } from "../model/params.ts";
import { numbers } from "../testing.ts";
import { Ch8Run, type RunState } from "./run.ts";
import { trainGroup } from "./loop.ts";

/**
 * A group that computes nothing: each epoch's losses come from its first
 * tokens (so a record shows the data order), each call settles a few
 * milliseconds later, and `log` says when each epoch was asked for and
 * when its numbers were in.
 */
class Recording implements EngineGroup {
  readonly cells: number;
  readonly inOrder: boolean;
  readonly log: string[] = [];
  readonly #init: ParamValues[];
  #asked = 0;

  constructor(runs: Ch8Run[], inOrder: boolean) {
    this.cells = runs.length;
    this.inOrder = inOrder;
    this.#init = runs.map((r) => r.init);
  }

  trainEpochs(epochs: CellEpoch[]): Promise<(EpochStats | null)[]> {
    const k = ++this.#asked;
    this.log.push(`ask ${k}`);
    const stats = epochs.map((e) =>
      e && {
        losses: e.batches.map((b) => 1 + b.X[0] / 100),
        grad_norms: e.batches.map((b) => b.Y[0]),
        tokens: 10,
        seconds: 0.01,
      }
    );
    return new Promise((settle) =>
      setTimeout(() => {
        this.log.push(`in ${k}`);
        settle(stats);
      }, 5)
    );
  }

  evaluate(cells: CellEval[]): Promise<number[]> {
    return Promise.resolve(cells.map((c) => c ? 1.5 : NaN));
  }

  gradients(): Promise<Gradients> {
    throw new Error("not used");
  }

  values(cell: number): Promise<ParamValues> {
    return Promise.resolve(this.#init[cell]);
  }

  destroy(): void {}
}

Deno.test("a group that takes calls in order is asked for the next epoch before the last one's numbers are in; the records and checkpoints are those of one epoch at a time", async () => {
  const corpus = loadCorpus(PASSAGE, 250, 60);
  const configs = [
    { seed: 1, num_epochs: 4 },
    { seed: 2, num_epochs: 2, sampling: "random" as const },
  ].map((over) =>
    resolveConfig({
      num_hiddens: 8,
      num_steps: 5,
      batch_size: 3,
      eval_every: 1,
      num_preds: 3,
      ...over,
    })
  );
  const train = async (inOrder: boolean) => {
    const runs = configs.map((c) => new Ch8Run(c, corpus));
    const group = new Recording(runs, inOrder);
    const states: RunState[] = [];
    const records = await trainGroup(runs, group, undefined, {
      every_seconds: 0,
      save: (_, s) => void states.push(s),
    });
    return { records, states, log: group.log };
  };
  const ahead = await train(true);
  const alone = await train(false);
  assert.deepEqual(alone.log, [
    "ask 1",
    "in 1",
    "ask 2",
    "in 2",
    "ask 3",
    "in 3",
    "ask 4",
    "in 4",
  ]);
  assert.deepEqual(ahead.log, [
    "ask 1",
    "ask 2",
    "in 1",
    "ask 3",
    "in 2",
    "ask 4",
    "in 3",
    "in 4",
  ]);
  assert.deepEqual(ahead.records.map(numbers), alone.records.map(numbers));
  assert.deepEqual(
    ahead.records.map((r) => r.epochs.map((e) => e.sample)),
    alone.records.map((r) => r.epochs.map((e) => e.sample)),
  );
  // The states handed over after each epoch: the data order as it stood
  // then, though the next epoch's minibatches were already drawn.
  const keep = (s: RunState[]) =>
    s.map(({ epoch, data_rng, result }) => ({ epoch, data_rng, result }));
  assert.deepEqual(keep(ahead.states), keep(alone.states));
  assert.equal(ahead.states.length, 4); // after epochs 1, 2, 3 of the first, 1 of the second
});
