/**
 * Internal: runs one experiment cell in its own process for `deno task exp`.
 * Reads a {@linkcode CellJob} as the first line of stdin, prints one JSON
 * event per epoch on stdout, and writes `cells/<id>.json` atomically into the
 * directory given as the only argument. Exits when stdin closes, so a killed
 * runner leaves no orphan behind.
 *
 * @module
 */
import type { CellJob } from "../experiment/cell.ts";
import { failedRecord, runCell } from "../experiment/cell.ts";
import { cellPath, writeCell } from "../experiment/store.ts";
import { ioCode, ioMessage, UserError } from "../errors.ts";

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
  const emit = (event: unknown) => console.log(JSON.stringify(event));
  let record;
  try {
    record = await runCell(
      job,
      (log) => emit({ type: "epoch", ...log, sample: undefined }),
    );
  } catch (e) {
    const message = e instanceof UserError
      ? e.message
      : (e as Error).stack ?? String(e);
    record = failedRecord(job, message);
  }
  try {
    await writeCell(dir, record);
  } catch (e) {
    // The runner stops the grid: a disk that cannot take this cell will
    // not take the next.
    if (!ioCode(e)) throw e;
    emit({
      type: "io-error",
      message: ioMessage(e, cellPath(dir, job.cell.id)),
    });
    return 1;
  }
  emit({ type: "done", status: record.status });
  return 0;
}

if (import.meta.main) Deno.exit(await main());
