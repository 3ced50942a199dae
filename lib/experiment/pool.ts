/**
 * Training cells in worker processes: `jobs` workers (`worker.ts`), each
 * alive for the whole run and handed one job at a time (a cell alone, or
 * a group of cells of one shape on the fused engine trained together), so
 * that a grid of small cells is not paid for in process start-ups. Each
 * cell is stored by its worker the moment it finishes; a worker that dies
 * takes only the cells of its job in flight with it, and the next job
 * gets a new worker.
 *
 * @module
 */
import type { EpochLog } from "../train/result.ts";
import { groupKey, groupsOf } from "../engine/group.ts";
import type { SourceOptions } from "../data/source.ts";
import { io, IoError } from "../errors.ts";
import { type CellJob, type CellRecord, failedRecord } from "./cell.ts";
import type { Cell, Overrides } from "./grid.ts";
import { cellPath, readCellFile, setAside, writeCell } from "./store.ts";

/** What the runner reports while it works. */
export interface RunnerEvents {
  /** A group of cells starts, trained together in one process. */
  onGroup?: (cells: Cell[]) => void;
  onStart?: (cell: Cell) => void;
  onEpoch?: (cell: Cell, log: EpochLog) => void;
  onEnd?: (cell: Cell, record: CellRecord) => void;
  /** A cell goes on from its checkpoint at `path`, after `epoch` epochs. */
  onResumed?: (cell: Cell, epoch: number, path: string) => void;
  /** A checkpoint was refused (`reason`): its cell starts from epoch 0. */
  onRefused?: (cell: Cell, path: string, reason: string) => void;
  /** Something the run goes on after (a checkpoint that could not be written). */
  onWarning?: (message: string) => void;
}

/** How to start a worker: the program and its arguments (the results directory is appended). */
export interface CellCommand {
  program: string;
  args: string[];
}

/** Options of {@linkcode runCells}. */
export interface RunOptions {
  experiment: string;
  overrides: Overrides;
  alphas: number[];
  source: SourceOptions;
  /** Workers at a time, each training one job after another. */
  jobs: number;
  /** Most cells of one shape trained together in one job (1: each alone). */
  batch?: number;
  /** Checkpoints of the cells in training ({@linkcode CellJob}'s); none when absent. */
  checkpoints?: CellJob["checkpoints"];
  command: CellCommand;
  events?: RunnerEvents;
}

/**
 * The cells in jobs: those of one {@linkcode groupKey} (the fused engine,
 * one shape; the corpus and letters stand for the vocabulary) together,
 * at most `batch` each, in the order the cells come; every other cell
 * alone.
 */
export function groupCells(cells: Cell[], batch: number): Cell[][] {
  return groupsOf(
    cells,
    batch,
    ({ config: c }) => groupKey(c, `${c.corpus}|${c.letters ?? "ascii"}`),
  );
}

/** The last lines a process wrote on stderr. */
class Tail {
  #text = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        this.#text = (this.#text + decoder.decode(chunk, { stream: true }))
          .slice(-8192);
      }
    })().catch(() => {});
  }
  lines(n: number): string {
    return this.#text.trim().split("\n").slice(-n).join(" | ");
  }
}

/** One worker process and the job it trains. */
class Worker {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stderr: Tail;
  readonly #events: AsyncIterator<Record<string, unknown>>;

  constructor(command: CellCommand, dir: string) {
    this.#child = new Deno.Command(command.program, {
      args: [...command.args, dir],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#stderr = new Tail(this.#child.stderr);
    this.#events = events(this.#child.stdout);
  }

  /**
   * Trains `job`: `onEvent` sees each event; resolves true when the job is
   * done, false when the process ended first (it is then gone).
   */
  async train(
    job: CellJob,
    onEvent: (event: Record<string, unknown>) => Promise<void>,
  ): Promise<boolean> {
    // A process that died cannot take it; its status says why.
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify(job) + "\n"),
    ).catch(() => {});
    for (;;) {
      const { value, done } = await this.#events.next();
      if (done) return false;
      if (value.type === "done") return true;
      await onEvent(value);
    }
  }

  /** Why the process ended: its status and the end of its stderr. */
  async why(): Promise<string> {
    const status = await this.#child.status;
    return `cell process exited with status ${status.code}${
      status.signal ? ` (${status.signal})` : ""
    }: ${this.#stderr.lines(5)}`;
  }

  /** Ends the process: no more jobs (it exits when the one in flight, if any, is done). */
  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}

/** The JSON events a process prints, one per line; other lines are ignored (a library's stray output). */
async function* events(
  stdout: ReadableStream<Uint8Array>,
): AsyncGenerator<Record<string, unknown>> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of stdout) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        yield JSON.parse(line);
      } catch { /* not an event */ }
    }
  }
}

/**
 * Runs `cells` into `dir` in jobs ({@linkcode groupCells}, at most `batch`
 * cells trained together), on `jobs` workers. Each result is stored
 * (atomically) the moment its cell finishes, so an interrupted run loses
 * at most the cells in flight. Returns the records in the order they
 * finished. A cell that cannot be stored stops the grid: no other job
 * starts, and an {@linkcode IoError} says which file.
 */
export async function runCells(
  dir: string,
  cells: Cell[],
  options: RunOptions,
): Promise<CellRecord[]> {
  const queue = groupCells(cells, options.batch ?? 1);
  const events = options.events ?? {};
  const done: CellRecord[] = [];
  let failure: unknown;
  const ended = (cell: Cell, record: CellRecord) => {
    done.push(record);
    events.onEnd?.(cell, record);
  };
  const worker = async () => {
    let process: Worker | null = null;
    for (let group = queue.shift(); group; group = queue.shift()) {
      const job: CellJob = {
        experiment: options.experiment,
        cells: group,
        overrides: options.overrides,
        alphas: options.alphas,
        source: options.source,
        checkpoints: options.checkpoints,
      };
      const byId = new Map(group.map((c) => [c.id, c]));
      const finished = new Set<string>();
      let ioFailure: string | undefined;
      events.onGroup?.(group);
      for (const cell of group) events.onStart?.(cell);
      process ??= new Worker(options.command, dir);
      const ok = await process.train(job, async (event) => {
        const cell = byId.get(event.id as string);
        if (event.type === "epoch" && cell) {
          events.onEpoch?.(cell, event as unknown as EpochLog);
        } else if (event.type === "resumed" && cell) {
          events.onResumed?.(cell, event.epoch as number, event.path as string);
        } else if (event.type === "refused" && cell) {
          events.onRefused?.(
            cell,
            event.path as string,
            event.reason as string,
          );
        } else if (event.type === "warning") {
          events.onWarning?.(event.message as string);
        } else if (event.type === "stored" && cell) {
          const file = await readCellFile(dir, cell.id);
          finished.add(cell.id);
          if (file && "record" in file) ended(cell, file.record);
          else {
            // Stored, but not as a valid cell: no result, and said so.
            const why = file ? file.reason : "it is gone";
            if (file) await io(file.path, () => setAside(dir, file));
            const failed = failedRecord(job, cell, `stored, not valid: ${why}`);
            await io(cellPath(dir, cell.id), () => writeCell(dir, failed));
            ended(cell, failed);
          }
        } else if (event.type === "io-error") {
          ioFailure = event.message as string;
        }
      });
      try {
        // A cell could not be stored (disk full, read-only): the grid stops.
        if (ioFailure) throw new IoError(ioFailure);
        if (ok) continue;
        // The process died without storing them (crash, out of memory).
        const why = await process.why();
        process = null;
        for (const cell of group) {
          if (finished.has(cell.id)) continue;
          const failed = failedRecord(job, cell, why);
          await io(cellPath(dir, cell.id), () => writeCell(dir, failed));
          ended(cell, failed);
        }
      } catch (e) {
        // No new job starts; the ones in flight finish (or fail to store) first.
        failure ??= e;
        queue.length = 0;
      }
    }
    await process?.close();
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  if (failure) throw failure;
  return done;
}
