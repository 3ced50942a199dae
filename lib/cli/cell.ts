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
import { writeCell } from "../experiment/store.ts";
import { UserError } from "../errors.ts";

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
  try {
    const record = await runCell(
      job,
      (log) => emit({ type: "epoch", ...log, sample: undefined }),
    );
    await writeCell(dir, record);
    emit({ type: "done", status: record.status });
    return 0;
  } catch (e) {
    const message = e instanceof UserError
      ? e.message
      : (e as Error).stack ?? String(e);
    await writeCell(dir, failedRecord(job, message));
    emit({ type: "done", status: "failed", message });
    return 0;
  }
}

if (import.meta.main) Deno.exit(await main());
