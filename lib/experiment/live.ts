/**
 * What a running grid shows of its cells in flight: `live.json` in the
 * results directory, each running cell's curves so far, rewritten
 * (atomically, at most every `interval` ms) as epochs end and removed when
 * the run ends. `deno task serve` draws it; nothing else reads it, and a
 * stale one (a runner killed) names its writer's pid.
 *
 * @example
 * ```ts
 * const live = new LiveLog("results/x");
 * live.epoch(cell, log);
 * await live.close();
 * ```
 *
 * @module
 */
import { writeTextAtomic } from "../fsutil.ts";
import type { EpochLog } from "../train/result.ts";
import type { Cell } from "./grid.ts";

/** Schema tag of `live.json`. */
export const LIVE_SCHEMA = "rnnlab.live/1";

/** One running cell as `live.json` holds it. */
export interface LiveCell {
  id: string;
  point: Cell["point"];
  seed: number;
  num_epochs: number;
  /** Training perplexity of each epoch so far. */
  train_ppl: number[];
  /** Validation perplexity at each evaluation so far. */
  val_ppl: { epoch: number; ppl: number }[];
  tokens_per_sec: number;
}

/** `live.json`. */
export interface Live {
  schema: typeof LIVE_SCHEMA;
  /** The runner writing it. */
  pid: number;
  updated: string;
  cells: LiveCell[];
}

/** The running cells of a results directory, kept in `live.json`. */
export class LiveLog {
  readonly path: string;
  readonly #cells = new Map<string, LiveCell>();
  readonly #interval: number;
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  /** `live.json` of `dir`, rewritten at most every `interval` ms. */
  constructor(dir: string, interval = 500) {
    this.path = `${dir}/live.json`;
    this.#interval = interval;
  }

  /** A cell starts. */
  start(cell: Cell): void {
    this.#cells.set(cell.id, {
      id: cell.id,
      point: cell.point,
      seed: cell.config.seed,
      num_epochs: cell.config.num_epochs,
      train_ppl: [],
      val_ppl: [],
      tokens_per_sec: 0,
    });
    this.#schedule();
  }

  /** An epoch of a running cell ended. */
  epoch(cell: Cell, log: EpochLog): void {
    const c = this.#cells.get(cell.id);
    if (!c) return;
    c.train_ppl.push(log.train_ppl);
    if (typeof log.val_ppl === "number") {
      c.val_ppl.push({ epoch: log.epoch, ppl: log.val_ppl });
    }
    c.tokens_per_sec = log.tokens_per_sec;
    this.#schedule();
  }

  /** A cell ended (its record is stored). */
  end(cell: Cell): void {
    this.#cells.delete(cell.id);
    this.#schedule(true);
  }

  /** The run ended: the file goes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#writing;
    await Deno.remove(this.path).catch(() => {});
  }

  #schedule(now = false) {
    if (this.#closed || this.#timer !== undefined) return;
    const wait = now
      ? 0
      : Math.max(0, this.#last + this.#interval - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#last = Date.now();
      this.#writing = this.#writing.then(() => this.#write());
    }, wait);
  }

  async #write() {
    if (this.#closed) return;
    const live: Live = {
      schema: LIVE_SCHEMA,
      pid: Deno.pid,
      updated: new Date().toISOString(),
      cells: [...this.#cells.values()],
    };
    // What the page shows is a courtesy: a full disk must not stop the grid.
    await writeTextAtomic(this.path, JSON.stringify(live) + "\n").catch(
      () => {},
    );
  }
}
