/**
 * rnnlab in a Jupyter notebook with Deno's kernel: figures, tables and a
 * curve that grows while a run trains, as objects the kernel displays
 * (`Deno.jupyter.display`, or the last expression of a cell). Figures are
 * drawn headless by vega-lite into SVG, which every notebook viewer shows,
 * the ones without JavaScript included.
 *
 * @example
 * ```ts
 * const result = await train_ch8(config, corpus);
 * await figure([{ id: "run", point: {}, seed: 0, vocab_size: 28, ...result }], "train");
 * ```
 *
 * @module
 */
import type { CellRecord } from "../experiment/cell.ts";
import type { EpochLog } from "../train/result.ts";
import { summarize } from "../report/aggregate.ts";
import { cellText, fmt } from "../report/markdown.ts";
import {
  perplexitySpec,
  pointLabel,
  renderSvg,
  type Run,
} from "../report/plot.ts";

/** Output by MIME type, as a Jupyter front end takes it. */
export type MediaBundle = Record<string, string>;

/** What Deno's kernel shows through `Symbol.for("Jupyter.display")`. */
export interface Displayable {
  /** The bundle to show, under `Symbol.for("Jupyter.display")`. */
  [display: symbol]: () => MediaBundle;
}

const displayable = (bundle: MediaBundle): Displayable => ({
  [Symbol.for("Jupyter.display")]: () => bundle,
});

/**
 * The perplexity figure of `runs` (stored cells through `runOf`, or
 * `train_ch8` results), as the reports draw it: per grid point the mean
 * over seeds with a band, each seed a thin line.
 */
export async function figure(
  runs: Run[],
  metric: "train" | "val",
): Promise<Displayable> {
  return displayable(await figureBundle(runs, metric));
}

async function figureBundle(
  runs: Run[],
  metric: "train" | "val",
): Promise<MediaBundle> {
  return {
    "image/svg+xml": await renderSvg(perplexitySpec(runs, metric)),
    "text/plain": `${metric === "train" ? "training" : "validation"} ` +
      `perplexity of ${runs.length} run${runs.length === 1 ? "" : "s"}, ` +
      `to epoch ${Math.max(0, ...runs.map((r) => r.train_ppl.length))}`,
  };
}

/** A value as a table shows it: numbers to 4 significant digits. */
const tableText = (v: unknown): string =>
  typeof v === "number"
    ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))))
    : v === null || v === undefined
    ? "–"
    : String(v);

/**
 * Rows as a table (Markdown in the notebook, aligned text elsewhere), the
 * columns those of the first row unless `columns` names them.
 */
export function table(
  rows: Record<string, unknown>[],
  columns: string[] = Object.keys(rows[0] ?? {}),
): Displayable {
  const cells = rows.map((r) => columns.map((c) => tableText(r[c])));
  const markdown = [
    `| ${columns.map(cellText).join(" | ")} |`,
    `| ${columns.map(() => "---").join(" | ")} |`,
    ...cells.map((r) => `| ${r.map(cellText).join(" | ")} |`),
  ].join("\n");
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => r[i].length))
  );
  const line = (r: string[]) =>
    r.map((s, i) => s.padEnd(widths[i])).join("  ").trimEnd();
  return displayable({
    "text/markdown": markdown,
    "text/plain": [line(columns), ...cells.map(line)].join("\n"),
  });
}

/**
 * Cells grouped by grid point, one row each: its seeds, and mean ± sd over
 * them of the final training and validation perplexity, the best
 * validation perplexity and tokens/s, as the reports print them.
 */
export function grouped(cells: CellRecord[]): Displayable {
  return table(
    summarize(cells).map((r) => ({
      point: `${r.best ? "★ " : ""}${pointLabel(r.point)}`,
      seeds: r.seeds.join(", "),
      "train ppl": fmt(r.final_train_ppl),
      "val ppl": fmt(r.final_val_ppl),
      "best val ppl": fmt(r.best_val_ppl),
      "tokens/s": fmt(r.tokens_per_sec, 0),
      diverged: `${r.diverged}/${r.cells.length}`,
    })),
  );
}

/**
 * A training curve drawn while its run trains: hand `onEpoch` to
 * `train_ch8`'s hooks, and `show` puts each drawing in the same place
 * (a display id). Every `every` epochs it is drawn again, one drawing at a
 * time and in order; `done()` draws the last one and waits for it.
 *
 * @example
 * ```ts
 * const live = new LiveFigure(
 *   { id: "sequential", point: { sampling: "sequential" }, seed: 0, vocab_size: 28 },
 *   (bundle, update) =>
 *     Deno.jupyter.display(bundle, { raw: true, display_id: "ppl", update }),
 * );
 * await train_ch8(config, corpus, { onEpoch: live.onEpoch });
 * await live.done();
 * ```
 */
export class LiveFigure {
  readonly #run: Run;
  readonly #show: (bundle: MediaBundle, update: boolean) => Promise<void>;
  readonly #every: number;
  #drawn = Promise.resolve();
  #shown = false;

  /** A live figure of `run` (its curves fill in as epochs end). */
  constructor(
    run: Omit<Run, "train_ppl" | "val_ppl">,
    show: (bundle: MediaBundle, update: boolean) => Promise<void>,
    every = 10,
  ) {
    this.#run = { ...run, train_ppl: [], val_ppl: [] };
    this.#show = show;
    this.#every = every;
  }

  /** Records an epoch's log; draws again every `every` epochs. */
  onEpoch = (log: EpochLog): void => {
    this.#run.train_ppl.push(log.train_ppl);
    if (log.val_ppl != null) {
      this.#run.val_ppl.push({ epoch: log.epoch, ppl: log.val_ppl });
    }
    if (log.epoch % this.#every === 0) this.#draw();
  };

  /** Draws the curve as it ends and waits until it is shown. */
  async done(): Promise<void> {
    this.#draw();
    await this.#drawn;
  }

  #draw() {
    const run = {
      ...this.#run,
      train_ppl: [...this.#run.train_ppl],
      val_ppl: [...this.#run.val_ppl],
    };
    this.#drawn = this.#drawn.then(async () => {
      await this.#show(await figureBundle([run], "train"), this.#shown);
      this.#shown = true;
    });
  }
}
