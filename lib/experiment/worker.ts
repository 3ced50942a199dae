/**
 * The worker process of `deno task exp`: it trains the jobs the runner
 * hands it, one after another, each a cell alone or a group of cells of
 * one shape trained together, so that a grid of small cells pays for one
 * process start-up (and one compilation of the kernels) per worker, not
 * per cell. The runner starts it with {@linkcode workerCommand}.
 *
 * Protocol: each line of stdin is a {@linkcode CellJob}; the worker prints
 * one JSON event per epoch of each cell, one when a cell goes on from a
 * checkpoint or its checkpoint is refused, one when a cell is stored (it
 * writes `cells/<id>.json` atomically into the directory given as its only
 * argument the moment the cell finished), and `{"type":"done"}` when the
 * job is over. End of input between jobs ends it; end of input during a
 * job, or a parent that is no longer the runner that started it (checked
 * at each epoch and before each write), means the runner is gone: it
 * exits at once, so a killed runner leaves no orphan behind and no cell is
 * written after it died.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { CellJob } from "./cell.ts";
import { failedRecord } from "./cell.ts";
import { cellPath, writeCell } from "./store.ts";
import { ROOT } from "./paths.ts";
import { denoProgram } from "../env.ts";
import { ioCode, ioMessage, UserError } from "../errors.ts";

/** The `deno run` flags of a task in `deno.json` (`--allow-…` and the like), without the script. */
export function taskFlags(task: string, root = ROOT): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`))
    .tasks as Record<string, string>;
  const words = tasks[task]?.split(/\s+/) ?? [];
  if (words[0] !== "deno" || words[1] !== "run" && words[1] !== "test") {
    throw new Error(`deno.json: task ${task} is not "deno run …"`);
  }
  return words.slice(2).filter((w) => w.startsWith("--"));
}

/**
 * The command that starts a worker: this module, by this Deno
 * ({@linkcode denoProgram}), with the permissions of the `exp` task in
 * `deno.json` but that it starts no Deno of its own (`--allow-run` keeps
 * `git` only).
 */
export function workerCommand(): { program: string; args: string[] } {
  const flags = taskFlags("exp").map((f) =>
    f.startsWith("--allow-run=") ? "--allow-run=git" : f
  );
  return {
    program: denoProgram(),
    args: [
      "run",
      ...flags,
      "--config",
      `${ROOT}/deno.json`,
      // This module, named from lib/ so that the path is the same when a
      // task under lib/ carries this code in one bundled file.
      fileURLToPath(new URL("../experiment/worker.ts", import.meta.url)),
    ],
  };
}

/** A record that could not be stored: the grid stops (a disk that cannot take this cell will not take the next). */
class StoreFailed extends Error {}

/** The lines of stdin, as they come. */
async function* lines(): AsyncGenerator<string> {
  let buffer = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
  }
}

async function main(): Promise<number> {
  const dir = Deno.args[0];
  // Training is loaded here, not by the runner that starts this module.
  const { trainJob } = await import("./job.ts");
  const emit = (event: unknown) => console.log(JSON.stringify(event));
  // A runner killed with -9 reparents this process: its parent id changes.
  const runner = Deno.ppid;
  const orphaned = () => {
    if (Deno.ppid !== runner) Deno.exit(130);
  };
  const jobs: string[] = [];
  let ended = false, busy = false;
  let wake = () => {};
  (async () => {
    for await (const line of lines()) {
      jobs.push(line);
      wake();
    }
    // The runner closes stdin only between jobs; during one, it is gone.
    if (busy) Deno.exit(130);
    ended = true;
    wake();
  })();
  for (;;) {
    while (jobs.length === 0 && !ended) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    const line = jobs.shift();
    if (line === undefined) return 0;
    busy = true;
    const job = JSON.parse(line) as CellJob;
    const stored = new Set<string>();
    const store = async (record: Parameters<typeof writeCell>[1]) => {
      orphaned();
      try {
        await writeCell(dir, record);
      } catch (e) {
        if (!ioCode(e)) throw e;
        emit({
          type: "io-error",
          message: ioMessage(e, cellPath(dir, record.id)),
        });
        throw new StoreFailed();
      }
      stored.add(record.id);
      emit({ type: "stored", id: record.id, status: record.status });
    };
    try {
      await trainJob(job, {
        onEpoch: (cell, log) => {
          orphaned();
          emit({ type: "epoch", id: cell.id, ...log, sample: undefined });
        },
        onRecord: store,
        onResumed: (cell, epoch, path) =>
          emit({ type: "resumed", id: cell.id, epoch, path }),
        onRefused: (cell, path, reason) =>
          emit({ type: "refused", id: cell.id, path, reason }),
        onCheckpoint: orphaned,
        onWarning: (message) => emit({ type: "warning", message }),
      }, dir);
    } catch (e) {
      if (e instanceof StoreFailed) return 1;
      // The job failed before its cells could train (a bad corpus, no
      // device): each cell not stored is, as failed, with the message.
      const message = e instanceof UserError
        ? e.message
        : (e as Error).stack ?? String(e);
      for (const cell of job.cells) {
        if (stored.has(cell.id)) continue;
        try {
          await store(failedRecord(job, cell, message));
        } catch (e) {
          if (e instanceof StoreFailed) return 1;
          throw e;
        }
      }
    }
    busy = false;
    emit({ type: "done" });
  }
}

if (import.meta.main) Deno.exit(await main());
