/**
 * Internal: runs one experiment cell, or a group of cells trained together,
 * in its own process for `deno task exp`. Reads a {@linkcode CellJob} as the
 * first line of stdin, prints one JSON event per epoch of each cell and one
 * when a cell is stored, and writes each `cells/<id>.json` atomically into
 * the directory given as the only argument the moment its cell finished.
 * Exits when stdin closes, or when its parent is no longer the runner that
 * started it (checked at each epoch and before each write, which an epoch
 * of synchronous arithmetic would otherwise delay), so a killed runner
 * leaves no orphan behind and no cell is written after it died.
 *
 * @module
 */
import type { CellJob } from "../experiment/cell.ts";
import { failedRecord } from "../experiment/cell.ts";
import { trainJob } from "../experiment/job.ts";
import { cellPath, writeCell } from "../experiment/store.ts";
import { ioCode, ioMessage, UserError } from "../errors.ts";

/** A record that could not be stored: the grid stops (a disk that cannot take this cell will not take the next). */
class StoreFailed extends Error {}

async function main(): Promise<number> {
  const dir = Deno.args[0];
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .getReader();
  let buffer = "";
  while (!buffer.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) return 2;
    buffer += value;
  }
  const job = JSON.parse(buffer.slice(0, buffer.indexOf("\n"))) as CellJob;
  // The runner keeps stdin open while it lives; end of input means it is gone.
  (async () => {
    while (!(await reader.read()).done) { /* keep reading */ }
    Deno.exit(130);
  })();
  // A runner killed with -9 reparents this process: its parent id changes.
  const runner = Deno.ppid;
  const orphaned = () => {
    if (Deno.ppid !== runner) Deno.exit(130);
  };
  const emit = (event: unknown) => console.log(JSON.stringify(event));
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
    });
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
  return 0;
}

if (import.meta.main) Deno.exit(await main());
