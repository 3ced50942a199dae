/**
 * Runs a search rung by rung: each stage's missing cells (a rung's
 * configurations, then the winners with every seed) are trained as a
 * grid's are, each rung going on from the checkpoints the one before it
 * kept; after each stage the decisions are derived again from the stored
 * cells. A shard trains its part of a stage and stops where the stage
 * waits for the other shards.
 *
 * @module
 */
import { removeCheckpoint } from "./checkpoint.ts";
import type { Cell } from "./grid.ts";
import {
  type PreparedGrid,
  type PreparedSearch,
  searchCells,
} from "./prepare.ts";
import { type GridEvents, type GridRun, runGrid } from "./runner.ts";
import {
  type Member,
  readSearch,
  type SearchState,
  shardSearch,
} from "./search.ts";

/** A stage of a search: a rung, or the winners' cells. */
export interface Stage {
  /** "rung 2 (90 epochs)" or "winners (500 epochs, seeds 0, 1, 2)". */
  name: string;
  members: Member[];
  /** How many configurations it trains. */
  configurations: number;
  /** Whether its cells' last states are kept for the next rung. */
  rung: boolean;
}

/** The first stage with a cell not stored, or null when the search is complete. */
export function nextStage(state: SearchState): Stage | null {
  const r = state.rungs.length - 1;
  const last = state.rungs[r];
  if (last && last.kept === null) {
    return {
      name: `rung ${r + 1} (${last.epochs} epochs)`,
      members: last.members,
      configurations: last.members.length,
      rung: true,
    };
  }
  if (state.finals?.some((m) => !m.record)) {
    const epochs = state.finals[0].grid.config.num_epochs;
    const seeds = [...new Set(state.finals.map((m) => m.grid.config.seed))];
    return {
      name: `winners (${epochs} epochs, seeds ${seeds.join(", ")})`,
      members: state.finals,
      configurations: state.finals.length / seeds.length,
      rung: false,
    };
  }
  return null;
}

/** What {@linkcode runSearch} tells besides a grid's events. */
export interface SearchEvents extends GridEvents {
  /** A stage is about to train `cells` (its missing ones, of this shard). */
  onStage?: (stage: Stage, cells: Cell[]) => void;
}

/** What {@linkcode runSearch} did. */
export interface SearchRun {
  /** Every stage's run, in order. */
  runs: GridRun[];
  /** Where the search stands now. */
  state: SearchState;
  /** The stage that waits for other shards' cells, if any. */
  waiting: Stage | null;
}

/**
 * Brings a search up to date: trains stage after stage until it is
 * complete, a cell of a stage failed (the stage stays undecided; the same
 * command trains it again), or (a shard) the stage waits for the others'
 * cells. A diverged cell decides: it ranks last. The caller holds the lock.
 */
export async function runSearch(
  g: PreparedGrid & { search: PreparedSearch },
  options: Parameters<typeof runGrid>[1] & { events?: SearchEvents },
): Promise<SearchRun> {
  const sharded = g.search.shard !== undefined;
  const runs: GridRun[] = [];
  let state = g.search.state;
  for (;;) {
    const stage = nextStage(state);
    if (!stage) return { runs, state, waiting: null };
    const { all } = await searchCells({ ...g.search, state });
    const key = (config: unknown) => JSON.stringify(config);
    const members = new Set(stage.members.map((m) => key(m.grid.config)));
    const missing = new Set(
      stage.members.filter((m) => !m.record).map((m) => key(m.grid.config)),
    );
    // A shard's part of the whole stage, whatever is stored already.
    let cells = all.filter((c) => members.has(key(c.config)));
    if (sharded) cells = shardSearch(cells, state, g.search.shard!);
    cells = cells.filter((c) => missing.has(key(c.config)));
    options.events?.onStage?.(stage, cells);
    const run = await runGrid({ ...g, cells }, {
      ...options,
      // A rung's last states are where its survivors go on from.
      checkpoints: options.checkpoints &&
        { ...options.checkpoints, keep_final: stage.rung },
    });
    runs.push(run);
    state = await readSearch(g.dir, g.spec, {
      ...g.search.options,
      sharded,
    });
    await dropCheckpoints(g, state);
    const still = nextStage(state);
    if (still?.name === stage.name) {
      // Undecided: a failed cell (the same command trains it again), or
      // a shard's stage that waits for the others' cells.
      const failed = run.records.some((r) => r.status === "failed");
      return { runs, state, waiting: sharded && !failed ? still : null };
    }
  }
}

/**
 * Removes the checkpoints no stage will go on from: those of the
 * configurations a decided rung dropped, and the winners' once their
 * cells are stored.
 */
async function dropCheckpoints(
  g: PreparedGrid & { search: PreparedSearch },
  state: SearchState,
): Promise<void> {
  const done: Member[] = [];
  for (const r of state.rungs) {
    if (r.kept) {
      done.push(...r.members.filter((m) => !r.kept!.includes(m.index)));
    }
  }
  if (state.finals?.every((m) => m.record)) done.push(...state.finals);
  for (const { grid: { config } } of done) {
    // One left behind costs disk, not a result.
    await removeCheckpoint(g.dir, config, g.search.sha1Of(config.corpus))
      .catch(() => {});
  }
}
