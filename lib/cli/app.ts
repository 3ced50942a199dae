/**
 * `deno task app`: builds the web page's scripts (`app.js`, `trainer.js`)
 * from their sources into `.build/app/`, unless they are current.
 * `deno task serve` does the same before it serves.
 *
 * @module
 */
import { ensureBundle } from "../serve/bundle.ts";
import { shownPath } from "../experiment/paths.ts";
import { runMain } from "./common.ts";

async function main(): Promise<number> {
  const { dir, built } = await ensureBundle();
  console.log(
    built
      ? `built app.js and trainer.js into ${shownPath(dir)}`
      : `${shownPath(dir)} is current`,
  );
  return 0;
}

if (import.meta.main) await runMain(main);
