/**
 * `deno task bench [--pytorch] [--json PATH]`: training throughput
 * (tokens/s) of each engine × backend on the chapter's configuration
 * (batch 32, 35 steps, 512 hidden units, vocab 28, sequential, clip 1),
 * warm-up excluded, several epochs over their wall time, with the
 * warm-up's extra seconds as a cold-compile column (Mesa's shader cache is off for the
 * run, as on a fresh machine). With `--pytorch`, the chapter's PyTorch
 * code (`pytorch/rnn_scratch.py`) runs in the same run, and every row
 * gets its ratio to PyTorch's best; the fused row says how many
 * dispatches a minibatch takes. Writes `results/bench/latest.json` and
 * `README.md`. `--sizes 32,128,512` measures the chapter's configuration
 * at each num_hiddens instead (`sizes-<adapter>.md`), `--cells` groups of
 * cells trained together, `--tiles` the kernels' tiles.
 *
 * @module
 */
import { Command } from "commander";
import { io, UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import { loadCorpus } from "../data/vocab.ts";
import {
  type BackendName,
  BACKENDS,
  type Engine,
  type EngineChoice,
  ENGINES,
  resolveConfig,
} from "../config/config.ts";
import { engineVersion } from "../train/train.ts";
import {
  type CellsThroughput,
  fusedShape,
  measureCells,
  measureEngine,
} from "../bench/measure.ts";
import { measureSizes } from "../bench/sizes.ts";
import {
  measurePytorch,
  TORCH_THREADS,
  type TorchThreads,
} from "../bench/pytorch.ts";
import { profileFused } from "../bench/profile.ts";
import { timeTiles } from "../bench/tiles.ts";
import { serveUnderLoad } from "../bench/load.ts";
import {
  adapterSlug,
  benchReport,
  type BenchRow,
  cellsReport,
  round,
  sizesReport,
} from "../bench/report.ts";
import { collectEnv } from "../env.ts";
import { writeFilesAtomic } from "../fsutil.ts";
import { pickEngine } from "../engine/pick.ts";
import { ROOT } from "../experiment/paths.ts";
import {
  checkJsonTarget,
  checkOutDir,
  DATA_DIR_OPTION,
  parseCommand,
  parseCount,
  runMain,
  sourceOptions,
  writeJsonOutput,
} from "./common.ts";

/** The runs of a bench: the fused engine on WebGPU, blas on the CPU, the reference on each backend. */
function runsOf(engines: Engine[], backends: BackendName[]): EngineChoice[] {
  return [
    ...(engines.includes("fused") && backends.includes("webgpu")
      ? [{ engine: "fused", backend: "webgpu" } as const]
      : []),
    ...(engines.includes("blas")
      ? [{ engine: "blas", backend: "cpu" } as const]
      : []),
    ...(engines.includes("reference")
      ? backends.map((backend) => ({ engine: "reference", backend }) as const)
      : []),
  ];
}

/** `--tiles`: the kernel tile sweep on the chapter's sizes, as a table. */
async function printTiles(): Promise<number> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) throw new UserError("--tiles: no WebGPU adapter");
  const device = await adapter.requestDevice();
  const c = resolveConfig({});
  console.log(`adapter: ${adapter.info.description || adapter.info.vendor}`);
  console.log("kernel   rows/wg  vec4/lane      ms  GFLOP/s  first dispatch s");
  for (const t of await timeTiles(device, c.batch_size, c.num_hiddens)) {
    console.log(
      `${t.kernel.padEnd(8)} ${String(t.rb).padStart(7)} ${
        String(t.cv).padStart(10)
      } ${t.ms.toFixed(3).padStart(7)} ${t.gflops.toFixed(2).padStart(8)} ${
        t.first_s.toFixed(2).padStart(17)
      }`,
    );
  }
  device.destroy();
  return 0;
}

/**
 * `--cells`: the fused engine training N cells of the chapter's
 * configuration together, for each N; the table on the terminal, and
 * `cells-<adapter>.json` and `.md` into `out`.
 */
async function benchCells(
  counts: number[],
  corpus: ReturnType<typeof loadCorpus>,
  epochs: number,
  out: string,
  num_hiddens = 512,
): Promise<number> {
  const rows: CellsThroughput[] = [];
  console.log(
    "cells   tokens/s together   per cell   × 1 cell   dispatches/minibatch   cold s",
  );
  for (const n of counts) {
    const r = await measureCells(n, corpus, epochs, num_hiddens);
    rows.push(r);
    const x = r.tokens_per_sec / rows[0].tokens_per_sec;
    console.log(
      `${String(n).padStart(5)} ${round(r.tokens_per_sec).padStart(18)} ${
        round(r.per_cell).padStart(10)
      } ${x.toFixed(2).padStart(10)} ${
        String(r.dispatches_per_minibatch).padStart(22)
      } ${round(r.cold_compile_s, 1).padStart(8)}`,
    );
  }
  const env = await collectEnv();
  const adapter = rows[0]?.adapter ?? null;
  const slug = adapterSlug(adapter);
  const result = {
    schema: "rnnlab.bench-cells/1",
    config: resolveConfig({ engine: "fused", num_epochs: 1, num_hiddens }),
    adapter,
    rows,
    env,
  };
  const md = cellsReport(rows, counts, epochs, env, num_hiddens);
  // The chapter's size keeps its name; others say theirs.
  const name = `cells-${slug}${num_hiddens === 512 ? "" : `-h${num_hiddens}`}`;
  await io(out, async () => {
    await Deno.mkdir(out, { recursive: true });
    await writeFilesAtomic([
      [`${out}/${name}.json`, JSON.stringify(result, null, 2) + "\n"],
      [`${out}/${name}.md`, md],
    ]);
  });
  console.log(`wrote ${out}/${name}.json and .md`);
  return 0;
}

/**
 * `--sizes`: the chapter's configuration at each num_hiddens
 * ({@linkcode measureSizes}), a line per row on the terminal, and
 * `sizes-<adapter>.json` and `.md` into `out`.
 */
async function benchSizes(
  sizes: number[],
  corpus: ReturnType<typeof loadCorpus>,
  epochs: number,
  torch: { python: string; script: string; data: string } | null,
  out: string,
): Promise<number> {
  console.log(
    "num_hiddens  engine   tokens/s   dispatches/minibatch  kernels  cold s",
  );
  const rows = await measureSizes(
    sizes,
    corpus,
    epochs,
    torch,
    (row) =>
      console.log(
        `${String(row.num_hiddens).padStart(11)}  ${row.engine.padEnd(7)} ${
          row.error
            ? `skipped: ${row.error}`
            : round(row.tokens_per_sec).padStart(10)
        } ${String(row.dispatches_per_minibatch ?? "–").padStart(22)}  ${
          (row.kernels ?? "–").padEnd(7)
        } ${round(row.cold_compile_s, 1).padStart(7)}`,
      ),
  );
  const env = await collectEnv();
  const slug = adapterSlug(
    rows.find((r) => r.engine === "fused" && r.adapter)?.adapter ?? null,
  );
  const result = { schema: "rnnlab.bench-sizes/1", sizes, epochs, rows, env };
  await io(out, async () => {
    await Deno.mkdir(out, { recursive: true });
    await writeFilesAtomic([
      [`${out}/sizes-${slug}.json`, JSON.stringify(result, null, 2) + "\n"],
      [`${out}/sizes-${slug}.md`, sizesReport(rows, epochs, env)],
    ]);
  });
  console.log(`wrote ${out}/sizes-${slug}.json and .md`);
  return rows.some((r) => r.error && r.engine !== "pytorch") ? 1 : 0;
}

/** A row's line on the terminal. */
function rowLine(r: BenchRow): string {
  const name = r.engine === "pytorch"
    ? "pytorch"
    : `${r.engine_version} ${r.backend}`;
  if (r.error) return `${name.padEnd(22)} skipped: ${r.error}`;
  return `${name.padEnd(22)} ${round(r.tokens_per_sec).padStart(8)} tokens/s` +
    `  cold ${round(r.cold_compile_s, 1).padStart(5)} s` +
    (r.dispatches_per_minibatch === undefined
      ? ""
      : `  ${r.dispatches_per_minibatch} dispatches/minibatch (${r.kernels})`) +
    (r.vs_pytorch ? `  ${r.vs_pytorch.toFixed(2)}× PyTorch` : "") +
    `${r.adapter ? `  (${r.adapter})` : ""}${
      r.picked ? "  ← picked here" : ""
    }`;
}

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task bench")
    .description(
      "Measure training tokens/s of each engine and backend on the chapter's config.",
    )
    .option("--engines <list>", "engines to measure", ENGINES.join(","))
    .option(
      "--backends <list>",
      "backends to measure the reference engine on",
      BACKENDS.join(","),
    )
    .option(
      "--epochs <n>",
      "measured epochs per row (after one warm-up epoch)",
      "3",
    )
    .option("--cpu-epochs <n>", "measured epochs on the slow cpu backend", "1")
    .option(
      "--pytorch",
      "also run the chapter's PyTorch code (pytorch/rnn_scratch.py) with 1 and 2 threads",
    )
    .option(
      "--python <path>",
      "the Python with PyTorch for --pytorch (Debian's python3-torch)",
      "/usr/bin/python3",
    )
    .option("--json <path>", "also write the JSON here")
    .option(
      "--cells <list>",
      "only measure N cells of the chapter's configuration trained together on the fused engine, for each N (e.g. 1,4,8,24), at 512 hidden units or each of --sizes; write cells-<adapter>[-h<num_hiddens>].json and .md",
    )
    .option(
      "--sizes <list>",
      "only measure the chapter's configuration at each num_hiddens (e.g. 32,128,512) on the fused and blas engines (and PyTorch with --pytorch); write sizes-<adapter>.json and .md",
    )
    .option(
      "--tiles",
      "only time the fused engine's step and weight-gradient kernels per tile (chapter's sizes); print and exit",
    )
    .option(
      "--serve",
      "only measure deno task serve over results/ under load: --streams event streams open and --clients clients at once until --requests are answered; print latency percentiles, errors and the server's memory",
    )
    .option("--streams <n>", "event streams held open for --serve", "200")
    .option("--clients <n>", "clients at once for --serve", "32")
    .option("--requests <n>", "requests answered for --serve", "3000")
    .option(
      "--out <dir>",
      "where latest.json and README.md go",
      `${ROOT}/results/bench`,
    )
    .option(...DATA_DIR_OPTION);
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<
    {
      engines: string;
      backends: string;
      epochs: string;
      cpuEpochs: string;
      pytorch?: boolean;
      python: string;
      json?: string;
      tiles?: boolean;
      cells?: string;
      sizes?: string;
      out: string;
      dataDir?: string;
      serve?: boolean;
      streams: string;
      clients: string;
      requests: string;
    }
  >();
  if (opts.serve) {
    if (opts.json) await checkJsonTarget(opts.json);
    const load = await serveUnderLoad(`${ROOT}/results`, {
      streams: parseCount(opts.streams, "--streams"),
      clients: parseCount(opts.clients, "--clients"),
      requests: parseCount(opts.requests, "--requests"),
    });
    const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
    const mb = (x: number | null) => x === null ? "?" : `${x.toFixed(0)} MB`;
    console.log(
      `deno task serve, ${opts.streams} event streams open, ${opts.clients} clients at once over ${load.paths} views: ` +
        `${load.requests} requests in ${
          load.seconds.toFixed(1)
        } s, ${load.errors} errors; ` +
        `p50 ${ms(load.p50)}, p99 ${ms(load.p99)}, max ${ms(load.max)}; ` +
        `server RSS ${mb(load.rss.start)} at the start, ${
          mb(load.rss.peak)
        } peak, ${mb(load.rss.end)} at the end`,
    );
    if (opts.json) await writeJsonOutput(opts.json, load);
    return load.errors ? 1 : 0;
  }
  const list = <T extends string>(
    flag: string,
    value: string,
    known: readonly T[],
  ) =>
    value.split(",").map((v) => {
      if (!known.includes(v as T)) {
        throw new UserError(
          `--${flag}: unknown ${flag.slice(0, -1)} ${JSON.stringify(v)} (${
            known.join(", ")
          })`,
        );
      }
      return v as T;
    });
  const engines = list("engines", opts.engines, ENGINES);
  const backends = list("backends", opts.backends, BACKENDS);
  // Compile as a fresh machine does: Mesa reads this when WebGPU starts.
  Deno.env.set("MESA_SHADER_CACHE_DISABLE", "true");
  if (opts.tiles) return await printTiles();
  const epochs = parseCount(opts.epochs, "--epochs");
  const cpuEpochs = parseCount(opts.cpuEpochs, "--cpu-epochs");
  // Checked before measuring, so a bench run never loses its numbers.
  if (opts.json) await checkJsonTarget(opts.json);
  await checkOutDir(opts.out);
  const source = await readCorpus("timemachine", sourceOptions(opts.dataDir));
  const corpus = loadCorpus(source.text);
  const sizes = opts.sizes?.split(",").map((c) => parseCount(c, "--sizes"));
  if (opts.cells) {
    const counts = opts.cells.split(",").map((c) => parseCount(c, "--cells"));
    let status = 0;
    for (const h of sizes ?? [512]) {
      status ||= await benchCells(counts, corpus, epochs, opts.out, h);
    }
    return status;
  }
  if (sizes) {
    const torch = opts.pytorch
      ? {
        python: opts.python,
        script: `${ROOT}/pytorch/rnn_scratch.py`,
        data: source.source,
      }
      : null;
    return await benchSizes(sizes, corpus, epochs, torch, opts.out);
  }
  const picked = await pickEngine();
  console.log(`this machine picks: ${picked.engine} (${picked.why})`);
  const rows: BenchRow[] = [];
  for (const choice of runsOf(engines, backends)) {
    const row: BenchRow = {
      ...choice,
      engine_version: engineVersion(choice),
      adapter: null,
      tokens_per_sec: 0,
      epochs_tokens_per_sec: [],
      warmup_epochs: 1,
      cold_compile_s: null,
      ...(choice.engine === picked.engine && choice.backend === picked.backend
        ? { picked: true }
        : {}),
    };
    try {
      const measured = choice.backend === "cpu" && choice.engine === "reference"
        ? cpuEpochs
        : epochs;
      Object.assign(row, await measureEngine(choice, corpus, measured));
      if (choice.engine === "fused") {
        Object.assign(
          row,
          await fusedShape(resolveConfig({ ...choice }), corpus),
        );
      }
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    }
    rows.push(row);
    console.log(rowLine(row));
  }
  if (opts.pytorch) {
    const data = source.source;
    for (const threads of TORCH_THREADS) {
      const row = await pytorchRow(opts.python, data, epochs, threads);
      rows.push(row);
      console.log(rowLine(row));
    }
    const torch = rows.filter((r) => r.engine === "pytorch" && !r.error);
    const best = Math.max(0, ...torch.map((r) => r.tokens_per_sec));
    if (best > 0) {
      for (const r of rows) {
        if (!r.error) r.vs_pytorch = r.tokens_per_sec / best;
      }
      const mine = rows.find((r) => r.picked && !r.error);
      if (mine) {
        console.log(
          `${mine.engine_version} (picked here): ${
            mine.vs_pytorch!.toFixed(2)
          }× the book's PyTorch code at its best here (${
            round(best)
          } tokens/s)`,
        );
      }
    }
  }
  const profile = engines.includes("fused") && backends.includes("webgpu")
    ? await profileFused(corpus.train, corpus.vocab.length)
    : null;
  const env = await collectEnv();
  const out = {
    schema: "rnnlab.bench/2",
    config: resolveConfig({ num_epochs: 1 }),
    picked: { engine: picked.engine, backend: picked.backend, why: picked.why },
    rows,
    profile,
    env,
  };
  const dir = opts.out;
  await io(dir, async () => {
    await Deno.mkdir(dir, { recursive: true });
    await writeFilesAtomic([
      [`${dir}/latest.json`, JSON.stringify(out, null, 2) + "\n"],
      [`${dir}/README.md`, benchReport(rows, profile, env)],
    ]);
  });
  if (opts.json) await writeJsonOutput(opts.json, out);
  return rows.some((r) => r.error && r.engine !== "pytorch") ? 1 : 0;
}

/** One PyTorch row; a missing Python or PyTorch is a skipped row, not an error. */
async function pytorchRow(
  python: string,
  data: string,
  epochs: number,
  threads: TorchThreads,
): Promise<BenchRow> {
  const row: BenchRow = {
    engine: "pytorch",
    engine_version: "pytorch",
    backend: "cpu",
    adapter: null,
    tokens_per_sec: 0,
    epochs_tokens_per_sec: [],
    warmup_epochs: 1,
    cold_compile_s: null,
  };
  try {
    const r = await measurePytorch(
      python,
      `${ROOT}/pytorch/rnn_scratch.py`,
      data,
      epochs,
      threads,
    );
    Object.assign(row, r, { engine_version: `pytorch ${r.torch}` });
    delete (row as { torch?: string }).torch;
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
  }
  return row;
}

if (import.meta.main) await runMain(main);
