/**
 * `deno task serve [--port P] [--host H] [--root DIR]`: a local web app
 * over the results (`results/`, or `--root`): every experiment, its cells
 * in a table, their curves, texts and environments, and a grid running
 * into it, live. Read-only; it binds 127.0.0.1 unless `--host` says
 * otherwise, and everything it loads comes from this machine.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { EXPERIMENTS_DIR } from "../experiment/load.ts";
import { RESULTS_DIR, shownPath } from "../experiment/paths.ts";
import { serveResults } from "../serve/server.ts";
import { ensureBundle } from "../serve/bundle.ts";
import { checkResultsDir, parseCommand, runMain } from "./common.ts";

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task serve")
    .description("Browse the results in a web page (read-only, local).")
    .option("--port <n>", "port (0: any free one)", "8000")
    .option("--host <name>", "address to bind", "127.0.0.1")
    .option("--root <dir>", "results tree (default results/)");
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<{ port: string; host: string; root?: string }>();
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError(
      `--port: expected a port 0–65535, got ${JSON.stringify(opts.port)}`,
    );
  }
  const root = opts.root ?? RESULTS_DIR;
  await checkResultsDir(root, "--root");
  const bundle = await ensureBundle();
  if (bundle.built) {
    console.log(`built the page's scripts into ${shownPath(bundle.dir)}`);
  }
  let server;
  try {
    server = serveResults({
      root,
      experiments: EXPERIMENTS_DIR,
      bundle: bundle.dir,
      port,
      hostname: opts.host,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(
          `serving ${
            shownPath(root)
          } at http://${host}:${port}/ (read-only; Ctrl-C stops)`,
        );
      },
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UserError(`--port ${port}: in use; choose another (or 0)`);
    }
    if (e instanceof Deno.errors.NotCapable) {
      throw new UserError(
        `--host ${opts.host}: the serve task listens on 127.0.0.1, localhost or 0.0.0.0 (every address); for another, run lib/cli/serve.ts with --allow-net`,
      );
    }
    if (e instanceof Deno.errors.AddrNotAvailable) {
      throw new UserError(
        `--host ${opts.host}: not an address of this machine`,
      );
    }
    throw e;
  }
  await server.finished;
  return 0;
}

if (import.meta.main) await runMain(main);
