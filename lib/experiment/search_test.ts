import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import { engineVersion } from "../train/result.ts";
import type { CellRecord } from "./cell.ts";
import {
  decisionsText,
  plannedConfigs,
  plannedEpochs,
  sameDecisions,
  sampleSpace,
  searchConfigs,
  searchState,
} from "./search.ts";
import { type ExperimentSpec, validateExperiment } from "./spec.ts";
import { fixtureCell } from "./testing.ts";

const SPACE = {
  num_hiddens: { choices: [8, 16, 32] },
  num_steps: { int: [5, 9] },
  lr: { log_uniform: [0.25, 4] },
  input: {
    choices: [{ input: "one_hot" }, { input: "embedding", embed_size: 4 }],
  },
} as const;

const SEARCH: ExperimentSpec = {
  name: "s",
  description: "A search.",
  exercises: ["2"],
  base: { engine: "blas", num_epochs: 12, eval_every: 2 },
  search: {
    space: SPACE as unknown as NonNullable<ExperimentSpec["search"]>["space"],
    configurations: 9,
    rungs: [2, 4, 8],
  },
  seeds: [0, 1, 2],
};

Deno.test("sampleSpace: the same distinct draws for a seed, each in its dimension; another seed draws others", () => {
  const a = sampleSpace(SEARCH.search!, 0);
  assert.deepEqual(a, sampleSpace(SEARCH.search!, 0));
  assert.notDeepEqual(a, sampleSpace(SEARCH.search!, 1));
  assert.equal(a.length, 9);
  assert.equal(new Set(a.map((p) => JSON.stringify(p))).size, 9);
  for (const p of a) {
    assert.ok([8, 16, 32].includes(p.num_hiddens!));
    assert.ok(
      Number.isInteger(p.num_steps) && p.num_steps! >= 5 && p.num_steps! <= 9,
    );
    assert.ok(p.lr! >= 0.25 && p.lr! <= 4);
    assert.equal(p.lr, Number(p.lr!.toPrecision(3)));
    // A joint choice sets both of its keys, or only the one.
    if (p.input === "embedding") assert.equal(p.embed_size, 4);
    else assert.deepEqual([p.input, p.embed_size], ["one_hot", undefined]);
  }
  // Both ends of an integer range are drawn.
  const steps = new Set(
    sampleSpace({ ...SEARCH.search!, configurations: 60 }, 0).map((p) =>
      p.num_steps
    ),
  );
  assert.deepEqual([...steps].sort(), [5, 6, 7, 8, 9]);
});

Deno.test("sampleSpace: more configurations than the space holds is one error naming the key", () => {
  assert.throws(
    () =>
      sampleSpace(
        {
          space: { clip: { choices: [1, "off"] } },
          configurations: 3,
          rungs: [2],
        },
        0,
        "experiments/s.ts",
      ),
    (e: Error) =>
      e instanceof UserError &&
      /experiments\/s\.ts: search\.configurations: 3 distinct configurations not found .* \(found 2\)/
        .test(e.message),
  );
});

/** A stored cell of `config` whose best validation perplexity is `best`. */
function stored(
  config: CellRecord["config"],
  best: number,
  status: CellRecord["status"] = "done",
): CellRecord {
  const c = fixtureCell(config, [best], status);
  return {
    ...c,
    id: JSON.stringify(config),
    config,
    engine: engineVersion(config),
    final: { ...c.final, best_val_ppl: best },
  };
}

/** Stores every cell the search names next, with perplexity `ppl(index, config)`. */
function fill(
  records: CellRecord[],
  ppl: (index: number, c: CellRecord["config"]) => number,
  status: (index: number) => CellRecord["status"] = () => "done",
): CellRecord[] {
  const state = searchState(SEARCH, records);
  const stage = state.rungs.at(-1)!.kept === null
    ? state.rungs.at(-1)!.members
    : state.finals ?? [];
  return [
    ...records,
    ...stage.filter((m) => !m.record).map((m) =>
      stored(m.grid.config, ppl(m.index, m.grid.config), status(m.index))
    ),
  ];
}

Deno.test("searchState: each rung keeps the best third on best validation perplexity, a diverged cell last and a tie to the one drawn first; the winner gets every seed", () => {
  let records: CellRecord[] = [];
  let state = searchState(SEARCH, records);
  assert.equal(state.rungs.length, 1);
  assert.equal(state.rungs[0].kept, null);
  assert.equal(state.finals, null);
  assert.deepEqual(
    state.rungs[0].members.map((m) => m.grid.config.num_epochs),
    Array(9).fill(2),
  );
  // Rung 1: #4 and #7 tie at 5, #2 diverged (it would be best otherwise).
  const rung1 = [9, 1, 8, 5, 7, 6, 5, 4, 3];
  records = fill(
    records,
    (i) => rung1[i],
    (i) => i === 1 ? "diverged" : "done",
  );
  state = searchState(SEARCH, records);
  assert.deepEqual(state.rungs[0].kept, [3, 7, 8]); // 5 (#4), 4 (#8), 3 (#9); #7's 5 loses the tie
  assert.equal(state.rungs[1].kept, null);
  assert.deepEqual(
    state.rungs[1].members.map((m) => [m.index, m.grid.config.num_epochs]),
    [[3, 4], [7, 4], [8, 4]],
  );
  // A rung goes on with the same configuration, longer.
  const { num_epochs: _a, ...at2 } = state.rungs[0].members[3].grid.config;
  const { num_epochs: _b, ...at4 } = state.rungs[1].members[0].grid.config;
  assert.deepEqual(at4, at2);
  records = fill(records, (i) => [0, 0, 0, 2, 0, 0, 0, 1, 3][i]);
  state = searchState(SEARCH, records);
  assert.deepEqual(state.rungs[1].kept, [7]); // max(1 winner, floor(3/3))
  records = fill(records, () => 1);
  state = searchState(SEARCH, records);
  assert.deepEqual(state.rungs[2].kept, [7]);
  assert.deepEqual(
    state.finals!.map((
      m,
    ) => [m.index, m.grid.config.num_epochs, m.grid.config.seed]),
    [[7, 12, 0], [7, 12, 1], [7, 12, 2]],
  );
  assert.match(
    decisionsText(state),
    /rung 1 \(2 epochs\): #4, #8, #9 went on of 9; .* rung 3 \(8 epochs\): #8 won of 1$/,
  );
  records = fill(records, () => 2);
  const done = searchState(SEARCH, records);
  assert.ok(done.finals!.every((m) => m.record));
  assert.equal(searchConfigs(done).length, plannedConfigs(SEARCH)); // 9 + 3 + 1 + 3
  assert.equal(plannedConfigs(SEARCH), 16);
  // 9·2 + 3·2 + 1·4 epochs, then the winner's first seed from 8 to 12 and two seeds of 12.
  assert.equal(plannedEpochs(SEARCH), 18 + 6 + 4 + 4 + 24);
  // The same cells in any order give the same decisions; other numbers do not.
  assert.deepEqual(
    sameDecisions(done, searchState(SEARCH, [...records].reverse())),
    [],
  );
  const other = records.map((r) =>
    r.config.num_epochs === 2 && r.final.best_val_ppl === 9
      ? { ...r, final: { ...r.final, best_val_ppl: 0.5 } }
      : r
  );
  assert.deepEqual(sameDecisions(done, searchState(SEARCH, other)), [
    "rung 1: #4, #8, #9 vs #1, #8, #9",
    "rung 2: #8 vs undecided",
    "rung 3: #8 vs undecided",
  ]);
});

Deno.test("searchState: a cell of an older engine version, or one that failed, answers nothing", () => {
  const first = searchState(SEARCH, []).rungs[0].members.map((m) =>
    m.grid.config
  );
  const old = first.map((c) => ({ ...stored(c, 3), engine: "blas/0" }));
  const failed = first.map((c) => stored(c, 3, "failed"));
  for (const records of [old, failed]) {
    const state = searchState(SEARCH, records);
    assert.equal(state.rungs[0].kept, null);
    assert.ok(state.rungs[0].members.every((m) => m.record === undefined));
  }
});

for (
  const [name, search, extra, message] of [
    [
      "a grid beside it",
      {},
      { grid: { lr: [1, 2] } },
      /s\.ts: grid: a search draws its configurations from search\.space/,
    ],
    [
      "a key that is not a config key",
      { space: { lr_decay: { choices: [1] } } },
      {},
      /s\.ts: search\.space\.lr_decay: not a config key/,
    ],
    [
      "a joint choice with one",
      {
        space: { input: { choices: [{ input: "embedding", embed_width: 4 }] } },
      },
      {},
      /search\.space\.input\[0\]\.embed_width: not a config key/,
    ],
    [
      "seeds as a dimension",
      { space: { seed: { int: [0, 3] } } },
      {},
      /search\.space\.seed: seeds are the experiment's "seeds"/,
    ],
    [
      "epochs as a dimension",
      { space: { num_epochs: { int: [10, 30] } } },
      {},
      /search\.space\.num_epochs: a search's epochs are its rungs/,
    ],
    [
      "a value its key refuses",
      {
        space: {
          lr: { log_uniform: [0.1, 10] },
          activation: { choices: ["tanh", "gelu"] },
        },
      },
      {},
      /search\.space\.activation\[1\]: activation: .*gelu/,
    ],
    [
      "an empty range",
      { space: { num_steps: { int: [9, 5] } } },
      {},
      /search\.space\.num_steps: expected lo < hi, got \[9, 5\]/,
    ],
    [
      "a dimension of no known form",
      { space: { lr: { uniform: [0.1, 1] } } },
      {},
      /search\.space\.lr: expected \{ choices/,
    ],
    [
      "rungs that do not ascend",
      { rungs: [4, 2] },
      {},
      /search\.rungs\[1\]: rungs must ascend \(got 2 after 4\)/,
    ],
    [
      "a rung between evaluations",
      { rungs: [3] },
      {},
      /search\.rungs\[0\]: a rung must be a multiple of eval_every 2 and at most num_epochs 12/,
    ],
    [
      "a rung past the budget",
      { rungs: [14] },
      {},
      /search\.rungs\[0\]: .*at most num_epochs 12,.*\(got 14\)/,
    ],
    [
      "more winners than configurations",
      { winners: 10 },
      {},
      /search\.winners: 10 winners of 9 configurations/,
    ],
    ["eta 1", { eta: 1 }, {}, /search\.eta/],
  ] as const
) {
  Deno.test(`validateExperiment refuses a search with ${name}, naming the file and key`, () => {
    const raw = {
      ...SEARCH,
      search: { ...SEARCH.search, ...search },
      ...extra,
    };
    assert.throws(
      () => validateExperiment(raw, "experiments/s.ts"),
      (e: Error) =>
        e instanceof UserError && message.test(e.message) &&
        !e.message.includes("\n"),
    );
  });
}

Deno.test("validateExperiment takes the committed kind of search", () => {
  assert.equal(
    validateExperiment(SEARCH, "experiments/s.ts").search?.configurations,
    9,
  );
});

Deno.test("searchState: where cells of two engines answer a configuration whose engine the machine picks, the machine's own engine's cell is taken, whatever their order", () => {
  const { engine: _e, ...base } = SEARCH.base!;
  const auto = { ...SEARCH, base };
  const machine = { engine: "blas", backend: "cpu" } as const;
  const first = searchState(auto, [], { machine }).rungs[0].members[0].grid;
  assert.equal(first.auto, true);
  const blas = stored(first.config, 5);
  const fused = stored(
    { ...first.config, engine: "fused", backend: "webgpu" },
    1,
  );
  for (const records of [[blas, fused], [fused, blas]]) {
    const [m] = searchState(auto, records, { machine }).rungs[0].members;
    assert.equal(m.record?.config.engine, "blas");
    assert.equal(m.value, 5);
  }
  // Without the machine's own, the other engine's cell answers.
  const [m] = searchState(auto, [fused], { machine }).rungs[0].members;
  assert.equal(m.value, 1);
});
