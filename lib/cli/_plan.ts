/**
 * What `deno task exp` prints before it runs anything: `--list` (every
 * experiment, its size and time here) and `--dry-run` (each cell of a grid:
 * stored, reusable or to run).
 *
 * @module
 */
import { pickEngine } from "../engine/pick.ts";
import type { CellRecord } from "../experiment/cell.ts";
import type { Cell } from "../experiment/grid.ts";
import { duration } from "../experiment/estimate.ts";
import { listing } from "../experiment/listing.ts";
import { adapterNote, type OnThisMachine } from "../experiment/notes.ts";
import type { PreparedGrid } from "../experiment/prepare.ts";
import { findStored, planCells } from "../experiment/runner.ts";
import { cellPath } from "../experiment/store.ts";
import { pointLabel } from "../report/plot.ts";
import { canonicalJson } from "../experiment/grid.ts";
import {
  numbers,
  plannedConfigs,
  plannedEpochs,
  rungSizes,
  searchSeconds,
} from "../experiment/search.ts";
import { plural } from "./common.ts";

/** `--list`: each experiment with its cells and the time it takes here. */
export async function list(): Promise<number> {
  const machine = await pickEngine();
  for (const e of await listing(machine)) {
    if ("error" in e) {
      console.log(`${e.name}  (broken: ${e.error})`);
      continue;
    }
    console.log(
      `${e.name}  (${e.cells} cells, ≈ ${
        duration(e.seconds)
      } on a 2-core CPU with ${machine.engine})`,
    );
    console.log(`  ${e.spec.description}`);
    console.log(`  exercises: ${e.spec.exercises.join("; ")}`);
  }
  return 0;
}

/** How many of `cells` have a file in `dir` (under their id or another engine's). */
export function storedCount(dir: string, cells: Cell[]): number {
  return cells.filter((c) =>
    [c.id, ...c.also].some((id) => {
      try {
        return Deno.statSync(cellPath(dir, id)).isFile;
      } catch {
        return false;
      }
    })
  ).length;
}

/** A cell as the runner prints it: its grid point and seed. */
export const label = (c: Pick<Cell, "point" | "config">) =>
  `${pointLabel(c.point)} seed=${c.config.seed}`;

/** `--dry-run`: what a run would do with each cell, without running any. */
export async function dryRun(
  g: PreparedGrid,
  storedNow: CellRecord[],
  here: OnThisMachine,
  force: boolean,
): Promise<number> {
  const plan = await planCells(g.dir, g.cells, force);
  const cached = new Set(plan.cached.map((c) => c.id));
  const reusable = g.reuse
    ? await findStored(g.dir, plan.run, g.alphas, here)
    : new Map();
  const note = adapterNote(
    storedNow,
    here,
    plan.run.length - reusable.size,
    g.shown,
  );
  if (note) console.log(note);
  for (const r of plan.rejected) {
    console.log(
      `rejected  ${r.path}: ${r.reason} (set aside when the grid runs, and its cell runs again)`,
    );
  }
  for (const c of g.cells) {
    const other = reusable.get(c.id)?.record;
    const state = cached.has(c.id)
      ? "stored"
      : other
      ? `reuse (${other.reused_from ?? other.experiment})`
      : "to run";
    console.log(`${state}  ${c.id}  ${label(c)}`);
  }
  console.log(
    `${g.cells.length} cells: ${
      plan.run.length - reusable.size
    } to run, ${reusable.size} to reuse, ${plan.cached.length} stored, in ${g.shown}`,
  );
  return 0;
}

/**
 * `--dry-run` of a search: every rung, decided or not, with its cells
 * (stored or to run) and which configurations went on; the rungs not
 * reached yet, with how many configurations they will have; the budget.
 */
export async function searchDryRun(
  g: PreparedGrid,
  force: boolean,
): Promise<number> {
  const { state } = g.search!;
  const search = g.spec.search!;
  const plan = await planCells(g.dir, g.cells, force);
  const cached = new Set(plan.cached.map((c) => c.id));
  const selected = new Map(g.cells.map((c) => [canonicalJson(c.config), c]));
  const show = (members: { grid: { config: unknown } }[]) => {
    for (const m of members) {
      const c = selected.get(canonicalJson(m.grid.config));
      if (c) {
        console.log(
          `  ${cached.has(c.id) ? "stored" : "to run"}  ${c.id}  ${label(c)}`,
        );
      }
    }
  };
  const sizes = rungSizes(search);
  for (const [r, epochs] of search.rungs.entries()) {
    const rung = state.rungs[r];
    const head = `rung ${r + 1} (${epochs} epochs)`;
    if (!rung) {
      console.log(
        `${head}: ${
          plural(sizes[r], "configuration")
        }, chosen once rung ${r} is stored`,
      );
    } else {
      console.log(
        `${head}: ${plural(rung.members.length, "configuration")}${
          rung.kept
            ? `; ${numbers(rung.kept)} ${
              r === search.rungs.length - 1 ? "won" : "went on"
            }`
            : ""
        }`,
      );
      show(rung.members);
    }
  }
  const head = `winners (${
    state.finals?.[0]?.grid.config.num_epochs ?? "the base's"
  } epochs, seeds ${g.spec.seeds.join(", ")})`;
  if (state.finals) {
    console.log(`${head}: ${numbers(state.rungs.at(-1)!.kept)}`);
    show(state.finals);
  } else {
    console.log(
      `${head}: the best ${
        search.winners ?? 1
      }, chosen once rung ${search.rungs.length} is stored`,
    );
  }
  const engine = state.rungs[0].members[0].grid.config.engine;
  console.log(
    `${g.cells.length} cells named so far: ${plan.run.length} to run, ${plan.cached.length} stored, in ${g.shown}; ` +
      `${plannedConfigs(g.spec)} cells and ${
        plannedEpochs(g.spec)
      } epochs in all (≈ ${
        duration(searchSeconds(g.spec, g.search!.options))
      } on a 2-core CPU with ${engine})`,
  );
  return 0;
}
