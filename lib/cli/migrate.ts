/**
 * `deno task migrate [DIR]`: rewrites a results tree (default `results/`)
 * in the current file formats, `rnnlab.cell/2` and `rnnlab.results/2`,
 * without changing a number (see `lib/report/migrate.ts`).
 *
 * Exit status: 0 when every file was migrated or current, 1 when some
 * file is not a valid cell (named, left alone), 2 on bad input.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { RESULTS_DIR, shownPath } from "../experiment/paths.ts";
import { migrateResults } from "../report/migrate.ts";
import { parseCommand, runMain } from "./common.ts";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task migrate")
    .description(
      "Rewrite stored results in the current formats (numbers unchanged).",
    )
    .argument("[dir]", "results tree (default results/)");
  const status = parseCommand(program);
  if (status !== null) return status;
  const root = program.args[0] ?? RESULTS_DIR;
  const info = await Deno.stat(root).catch(() => null);
  if (!info?.isDirectory) {
    throw new UserError(`${root}: not a directory of results`);
  }
  const m = await migrateResults(root);
  for (const r of m.rejected) {
    console.error(`error: ${r.path}: not migrated: ${r.reason}`);
  }
  console.log(
    `${
      shownPath(root)
    }: ${m.dirs.length} directories; ${m.runs} cells rewritten, ` +
      `${m.refs} copies now references, ${m.current} already current, ` +
      `${m.results} results.json rewritten; ${mb(m.bytes.before)} → ${
        mb(m.bytes.after)
      } of cell and results files`,
  );
  return m.rejected.length ? 1 : 0;
}

if (import.meta.main) await runMain(main);
