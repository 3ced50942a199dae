import assert from "node:assert/strict";
import { resolveConfig } from "../config/config.ts";
import { type Cell, cellId, expandGrid, makeCells } from "./grid.ts";
import {
  findStored,
  planCells,
  reuseStored,
  runCells,
  storedGridCells,
} from "./runner.ts";
import { IoError } from "../errors.ts";
import type { ExperimentSpec } from "./spec.ts";
import {
  cellPath,
  readCell,
  readCellFile,
  siblingDirs,
  writeCell,
} from "./store.ts";
import { fixtureEnv, storedRun } from "./testing.ts";

const config = resolveConfig({ num_hiddens: 8, num_epochs: 4 });
const cell: Cell = {
  also: [],
  id: await cellId(config, "sha"),
  config,
  point: { num_hiddens: 8 },
};

/** A finished record of `cell` as experiment `experiment` stored it. */
const stored = (experiment: string, alphas: number[]) =>
  storedRun(cell.config, { experiment, alphas });

Deno.test("findStored takes a sibling's finished run of the same id decoded at the same alphas; reuseStored refers to it", async () => {
  const root = await Deno.makeTempDir();
  try {
    const here = `${root}/here`;
    assert.deepEqual(await siblingDirs(here), []);
    await writeCell(`${root}/a-failed`, {
      ...(await stored("a-failed", [])),
      status: "failed",
    });
    await writeCell(`${root}/b-sampled`, await stored("b-sampled", [2]));
    assert.deepEqual(await siblingDirs(here), [
      `${root}/a-failed`,
      `${root}/b-sampled`,
    ]);
    assert.equal(
      (await findStored(here, [cell], [])).get(cell.id),
      undefined,
      "failed, or other alphas",
    );
    assert.equal(
      (await findStored(here, [cell], [2])).get(cell.id)?.record.experiment,
      "b-sampled",
    );

    await writeCell(`${root}/c-greedy`, await stored("c-greedy", []));
    const { run, reused } = await reuseStored(here, [cell], {
      experiment: "here",
      alphas: [],
      overrides: {},
    });
    assert.deepEqual(run, []);
    const copy = await readCell(here, cell.id);
    assert.deepEqual(reused, [copy]);
    assert.equal(copy?.experiment, "here");
    assert.equal(copy?.reused_from, "c-greedy");
    assert.deepEqual(copy?.train_ppl, (await stored("c-greedy", [])).train_ppl);
    // Stored as a reference to the run, not a copy of its numbers.
    const file = JSON.parse(await Deno.readTextFile(cellPath(here, cell.id)));
    assert.deepEqual(Object.keys(file).sort(), [
      "experiment",
      "id",
      "overrides",
      "point",
      "ref",
      "reused_from",
      "schema",
    ]);
    assert.equal(file.ref.dir, "c-greedy");
    // A reference to a reference names the run itself, and who trained it.
    const again = await reuseStored(`${root}/e`, [cell], {
      experiment: "e",
      alphas: [],
      overrides: {},
    });
    assert.equal(again.reused[0].experiment, "e");
    assert.equal(again.reused[0].reused_from, "c-greedy");
    const ref = JSON.parse(
      await Deno.readTextFile(cellPath(`${root}/e`, cell.id)),
    );
    assert.equal(ref.ref.dir, "c-greedy");
    // The run trained again (other numbers): the references no longer hold.
    const rerun = await stored("c-greedy", []);
    rerun.wall_seconds = 2;
    await writeCell(`${root}/c-greedy`, rerun);
    const stale = await readCellFile(here, cell.id);
    assert.match(
      stale && "reason" in stale ? stale.reason : "",
      /refers to .*c-greedy\/cells\/.*\.json, which changed since it was referred to/,
    );
    // Its source gone, a reference is no result either.
    await Deno.remove(`${root}/c-greedy`, { recursive: true });
    const gone = await readCellFile(`${root}/e`, cell.id);
    assert.match(
      gone && "reason" in gone ? gone.reason : "",
      /refers to .*, which is missing$/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("findStored with `here` takes only a run from this machine's backend and adapter", async () => {
  const root = await Deno.makeTempDir();
  const on = async (experiment: string, description: string) => ({
    ...(await stored(experiment, [])),
    env: fixtureEnv(description),
  });
  try {
    await writeCell(`${root}/a-gpu`, await on("a-gpu", "NVIDIA H200"));
    await writeCell(`${root}/b-cpu`, await on("b-cpu", "llvmpipe"));
    const find = async (adapter: string) =>
      (await findStored(`${root}/here`, [cell], [], {
        "fused/webgpu": `webgpu (${adapter})`,
      })).get(cell.id)?.record.experiment;
    assert.equal(await find("llvmpipe"), "b-cpu");
    assert.equal(await find("NVIDIA H200"), "a-gpu");
    assert.equal(await find("Apple M2"), undefined);
    assert.equal(
      (await findStored(`${root}/here`, [cell], [])).get(cell.id)?.record
        .experiment,
      "a-gpu",
      "without `here`, any adapter",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a cell whose engine the machine picks is stored when another engine a machine may pick stored it; an experiment that names its engine is not", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tiny: ExperimentSpec = {
      name: "tiny",
      description: "",
      exercises: ["4"],
      base: { num_hiddens: 8, num_epochs: 2 },
      grid: { clip: [1, "off"] },
      seeds: [0],
    };
    // Committed on a machine that picked fused; this one picks blas.
    const onGpu = await makeCells(expandGrid(tiny), () => "sha");
    const grid = expandGrid(tiny, {
      machine: { engine: "blas", backend: "cpu" },
    });
    const here = await makeCells(grid, () => "sha");
    assert.equal(here[0].config.engine, "blas");
    assert.ok(here[0].also.includes(onGpu[0].id));
    const committed = await storedRun(onGpu[0].config, { experiment: "tiny" });
    assert.equal(committed.id, onGpu[0].id);
    await writeCell(dir, committed);
    const plan = await planCells(dir, here);
    assert.deepEqual(plan.cached.map((c) => c.id), [here[0].id]);
    assert.deepEqual(plan.run.map((c) => c.id), [here[1].id]);
    assert.deepEqual((await storedGridCells(dir, grid)).map((r) => r.id), [
      onGpu[0].id,
    ]);
    // Where both engines stored it, the table takes the grid's own.
    const rerun = await storedRun(here[0].config, { experiment: "tiny" });
    assert.equal(rerun.id, here[0].id);
    await writeCell(dir, rerun);
    assert.deepEqual((await storedGridCells(dir, grid)).map((r) => r.id), [
      here[0].id,
    ]);
    // Naming the engine pins it: the fused run does not answer a blas cell.
    await Deno.remove(`${dir}/cells/${here[0].id}.json`);
    const pinned = { ...tiny, base: { ...tiny.base, engine: "blas" as const } };
    const pinnedGrid = expandGrid(pinned);
    const cells = await makeCells(pinnedGrid, () => "sha");
    assert.deepEqual(cells.map((c) => c.also), [[], []]);
    assert.equal((await planCells(dir, cells)).cached.length, 0);
    assert.deepEqual(await storedGridCells(dir, pinnedGrid), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCells: a cell that cannot be stored (its process says so) stops the grid: no other cell starts, and the error names the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const grid = expandGrid({
      name: "tiny",
      description: "",
      exercises: ["4"],
      base: { num_hiddens: 8, num_epochs: 2 },
      grid: { lr: [1, 2, 3] },
      seeds: [0],
    });
    const cells = await makeCells(grid, () => "sha");
    const started: string[] = [];
    // A cell process whose disk is full: it reports the failed write.
    const message =
      `${dir}/cells/x.json: no space left on the device; free some space`;
    const command = {
      program: "sh",
      args: [
        "-c",
        `echo '${JSON.stringify({ type: "io-error", message })}'; exit 1`,
        "cell",
      ],
    };
    await assert.rejects(
      runCells(dir, cells, {
        experiment: "tiny",
        overrides: {},
        alphas: [],
        source: {},
        jobs: 1,
        command,
        events: { onStart: (c) => started.push(c.id) },
      }),
      (e) => e instanceof IoError && e.message === message,
    );
    assert.deepEqual(started, [cells[0].id], "the grid stopped");
    // The process wrote nothing; the runner must not store a failed
    // record where a cell could not be stored (the disk is full).
    assert.deepEqual(
      await Deno.stat(`${dir}/cells`).catch(() => null),
      null,
      "the runner wrote no record for it",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
