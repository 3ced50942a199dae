/**
 * How `deno task exp` shows a grid running: a progress bar on a terminal,
 * else one plain line per event (CI, logs).
 *
 * @module
 */
import cliProgress from "cli-progress";
import type { Cell } from "../experiment/grid.ts";
import type { CellRecord } from "../experiment/cell.ts";
import type { RunnerEvents } from "../experiment/runner.ts";
import { pointLabel } from "../report/plot.ts";
import { shownPath } from "../experiment/paths.ts";

/** What the runner's progress shows. */
export interface Progress {
  /** Cells trained together start (a group of one says nothing). */
  group(cells: Cell[]): void;
  start(cell: Cell): void;
  epoch(cell: Cell, epoch: number, ppl: number, tps: number): void;
  end(cell: Cell, record: CellRecord): void;
  /** A line of its own (a cell resumed, a checkpoint refused). */
  note(text: string): void;
  stop(): void;
}

/** A cell as progress lines name it: its id's start, grid point and seed. */
const cellLabel = (c: Cell) =>
  `${c.id.slice(0, 8)} ${pointLabel(c.point)} seed=${c.config.seed}`;

/**
 * A progress display for `total` cells to run (`cached` already stored).
 */
export function progress(
  total: number,
  cached: number,
  num_epochs: number,
): Progress {
  let done = 0;
  const label = cellLabel;
  if (Deno.stderr.isTerminal()) {
    // The bar counts epochs, so its ETA moves within a cell too.
    const epochsDone = new Map<string, number>();
    const value = () => [...epochsDone.values()].reduce((a, b) => a + b, 0);
    const bar = new cliProgress.SingleBar({
      format:
        "cells {cells}/{ncells} [{bar}] {percentage}% | ETA {eta_formatted} | {group}{cell} epoch {epoch} ppl {ppl} {tps} tok/s",
      hideCursor: true,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    bar.start(Math.max(1, total * num_epochs), 0, {
      cells: 0,
      ncells: total,
      group: "",
      cell: "",
      epoch: "-",
      ppl: "-",
      tps: "-",
    });
    return {
      group: (cells) =>
        bar.update({
          group: cells.length > 1 ? `${cells.length} together, ` : "",
        }),
      start: (c) =>
        bar.update({ cell: label(c), epoch: 0, ppl: "-", tps: "-" }),
      epoch: (c, epoch, ppl, tps) => {
        epochsDone.set(c.id, epoch);
        bar.update(value(), {
          cell: label(c),
          epoch: `${epoch}/${c.config.num_epochs}`,
          ppl: ppl.toFixed(2),
          tps: Math.round(tps),
        });
      },
      end: (c) => {
        epochsDone.set(c.id, c.config.num_epochs);
        bar.update(value(), { cells: ++done });
      },
      // Above the bar, which the next update draws again.
      note: (text) => console.error(`\r\x1b[K${text}`),
      stop: () => bar.stop(),
    };
  }
  const log = (s: string) => console.error(s);
  log(
    `${total} cells to run (${cached} already stored), ${num_epochs} epochs each`,
  );
  return {
    group: (cells) => {
      if (cells.length > 1) {
        log(
          `${cells.length} cells train together: ${
            cells.map((c) => c.id.slice(0, 8)).join(" ")
          }`,
        );
      }
    },
    start: (c) => log(`[${done + 1}/${total}] start ${label(c)}`),
    epoch: (c, epoch, ppl, tps) => {
      if (
        epoch === 1 || epoch % Math.max(1, c.config.eval_every) === 0 ||
        epoch === c.config.num_epochs
      ) {
        log(
          `[${done + 1}/${total}] ${
            label(c)
          } epoch ${epoch}/${c.config.num_epochs} ppl ${ppl.toFixed(2)} ${
            Math.round(tps)
          } tokens/s`,
        );
      }
    },
    end: (c, r) => {
      done++;
      const ppl = r.final.train_ppl === null
        ? ""
        : ` train ppl ${r.final.train_ppl.toFixed(2)}`;
      const val = r.final.val_ppl === null
        ? ""
        : ` val ppl ${r.final.val_ppl.toFixed(2)}`;
      log(
        `[${done}/${total}] ${r.status} ${label(c)}${ppl}${val}${
          r.error ? `: ${r.error}` : ""
        }`,
      );
    },
    note: log,
    stop: () => {},
  };
}

/** The runner's events shown by a {@linkcode Progress}. */
export function runnerEvents(bar: Progress): RunnerEvents {
  return {
    onGroup: (cells) => bar.group(cells),
    onStart: (c) => bar.start(c),
    onEpoch: (c, log) =>
      bar.epoch(c, log.epoch, log.train_ppl, log.tokens_per_sec),
    onEnd: (c, r) => bar.end(c, r),
    onResumed: (c, epoch, path) =>
      bar.note(
        `resumed ${cellLabel(c)} from epoch ${epoch} (${shownPath(path)})`,
      ),
    onRefused: (c, path, reason) =>
      bar.note(
        `checkpoint ${shownPath(path)} refused: ${reason}; ${
          cellLabel(c)
        } starts from epoch 0`,
      ),
    onWarning: (text) => bar.note(`warning: ${text}`),
  };
}
