/**
 * `deno task bench [--pytorch] [--json PATH]`: training throughput
 * (tokens/s) of each engine × backend on the chapter's configuration
 * (batch 32, 35 steps, 512 hidden units, vocab 28, sequential, clip 1),
 * warm-up excluded, median of several epochs, with the warm-up's extra
 * seconds as a cold-compile column (Mesa's shader cache is off for the
 * run, as on a fresh machine). With `--pytorch`, the chapter's PyTorch
 * code (`pytorch/rnn_scratch.py`) runs in the same run, and every row
 * gets its ratio to PyTorch's best. Writes `results/bench/latest.json`
 * and `README.md`.
 *
 * @module
 */
import { Command } from "commander";
import { io, UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import { loadCorpus } from "../data/vocab.ts";
import { type BackendName, BACKENDS } from "../model/adapter.ts";
import {
  type Engine,
  type EngineChoice,
  ENGINES,
  resolveConfig,
} from "../train/config.ts";
import { engineVersion, rnnSpec } from "../train/train.ts";
import {
  type CellsThroughput,
  measureCells,
  measureEngine,
  measurePytorch,
  TORCH_THREADS,
  type TorchThreads,
} from "../train/bench.ts";
import { collectEnv } from "../env.ts";
import { writeFilesAtomic } from "../fsutil.ts";
import { makeRng } from "../data/prng.ts";
import { dataIter } from "../data/iterators.ts";
import { get_params } from "../model/rnn.ts";
import { FusedRnn, tilesFor } from "../engine/fused.ts";
import { pickEngine } from "../engine/pick.ts";
import { timeTiles } from "../engine/tune.ts";
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

/** One measured engine × backend, or the chapter's PyTorch code. */
export interface BenchRow {
  engine: Engine | "pytorch";
  /** The engine's version, as cell ids include it (PyTorch: its version). */
  engine_version: string;
  /** The tfjs backend (PyTorch: "cpu"). */
  backend: BackendName;
  /** What it computed on: the WebGPU adapter, the CBLAS, PyTorch's BLAS and threads. */
  adapter: string | null;
  /** Median over the measured epochs. */
  tokens_per_sec: number;
  /** Each measured epoch's tokens/s (after the warm-up epoch). */
  epochs_tokens_per_sec: number[];
  warmup_epochs: number;
  /**
   * Seconds the warm-up epoch took beyond a measured one: compiling kernels
   * on first use (with Mesa's shader cache off, as on a fresh machine),
   * starting up, warming the JIT.
   */
  cold_compile_s: number | null;
  /** Tokens/s over the best PyTorch row of the same run, with --pytorch. */
  vs_pytorch?: number;
  /** This machine's engine for configs that name none. */
  picked?: boolean;
  /** A skipped row says why. */
  error?: string;
}

/** GPU time per kernel of one fused minibatch, or why there is none. */
export type KernelProfile =
  | { kernels: Record<string, { ms: number; dispatches: number }> }
  | { error: string };

/**
 * Times each kernel of one minibatch of the fused engine on the chapter's
 * config with GPU timestamps (after a warm-up epoch), where the adapter
 * offers them.
 */
async function profileFused(
  train: Int32Array,
  V: number,
): Promise<KernelProfile> {
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter");
    if (!adapter.features.has("timestamp-query")) {
      throw new Error("the adapter has no timestamp queries");
    }
    const device = await adapter.requestDevice({
      requiredFeatures: ["timestamp-query"],
    });
    const c = resolveConfig({});
    const spec = rnnSpec(c, V);
    const net = new FusedRnn(device, {
      ...spec,
      batch_size: c.batch_size,
      num_steps: c.num_steps,
      tiles: tilesFor(adapter),
    }, get_params(spec, makeRng(c.seed)));
    const batches = [
      ...dataIter(c.sampling, train, c.batch_size, c.num_steps, makeRng(1)),
    ];
    await net.trainEpoch(batches, c);
    const kernels = await net.profile(batches[0]);
    net.destroy();
    device.destroy();
    return { kernels };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
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

/** A file name's part for an adapter: "llvmpipe", "nvidia-h200". */
const adapterSlug = (description: string | null) =>
  (description ?? "none").toLowerCase().replace(/\(.*\)/, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "adapter";

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
): Promise<number> {
  const rows: CellsThroughput[] = [];
  console.log(
    "cells   tokens/s together   per cell   × 1 cell   dispatches/minibatch   cold s",
  );
  for (const n of counts) {
    const r = await measureCells(n, corpus, epochs);
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
    config: resolveConfig({ engine: "fused", num_epochs: 1 }),
    adapter,
    rows,
    env,
  };
  const md = [
    `# Grid-batched training on ${adapter}`,
    "",
    `\`deno task bench --cells ${
      counts.join(",")
    }\`: N cells of the chapter's configuration`,
    "(seeds 0…N − 1) trained together by the fused engine, every dispatch covering all N;",
    `tokens/s of all cells together, median of ${epochs} epochs after a warm-up epoch.`,
    "",
    "| cells | tokens/s together | per cell | × 1 cell | dispatches per minibatch | cold s |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.cells} | ${round(r.tokens_per_sec)} | ${round(r.per_cell)} | ${
        (r.tokens_per_sec / rows[0].tokens_per_sec).toFixed(2)
      } | ${r.dispatches_per_minibatch} | ${round(r.cold_compile_s, 1)} |`
    ),
    "",
    `Deno ${env.deno}, ${env.os} ${env.arch}, ${env.cpu} × ${env.cpu_count}, git ${
      env.git_commit ?? "unknown"
    }${env.git_dirty ? " (dirty)" : ""}.`,
    "",
    "<sub>Generated by `deno task bench --cells`; do not edit by hand.</sub>",
    "",
  ].join("\n");
  await io(out, async () => {
    await Deno.mkdir(out, { recursive: true });
    await writeFilesAtomic([
      [`${out}/cells-${slug}.json`, JSON.stringify(result, null, 2) + "\n"],
      [`${out}/cells-${slug}.md`, md],
    ]);
  });
  console.log(`wrote ${out}/cells-${slug}.json and .md`);
  return 0;
}

/** The profile as Markdown lines, slowest kernel first. */
function profileTable(p: KernelProfile): string[] {
  if ("error" in p) return [`Kernel profile: none (${p.error}).`, ""];
  const entries = Object.entries(p.kernels).sort((a, b) => b[1].ms - a[1].ms);
  const total = entries.reduce((a, [, k]) => a + k.ms, 0);
  return [
    "GPU time per kernel of one fused minibatch: timestamps around each dispatch, which",
    "runs in a pass of its own for them. On llvmpipe that makes the minibatch slower than",
    "in training (and the time between dispatches is not included): read the shares.",
    "",
    "| kernel | dispatches | ms | share |",
    "| --- | ---: | ---: | ---: |",
    ...entries.map(([name, k]) =>
      `| ${name} | ${k.dispatches} | ${k.ms.toFixed(2)} | ${
        (100 * k.ms / total).toFixed(1)
      } % |`
    ),
    `| total | ${entries.reduce((a, [, k]) => a + k.dispatches, 0)} | ${
      total.toFixed(1)
    } | |`,
    "",
  ];
}

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

const round = (x: number | null | undefined, digits = 0) =>
  x == null ? "–" : x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

/** A row's line on the terminal. */
function rowLine(r: BenchRow): string {
  const name = r.engine === "pytorch"
    ? "pytorch"
    : `${r.engine_version} ${r.backend}`;
  if (r.error) return `${name.padEnd(22)} skipped: ${r.error}`;
  return `${name.padEnd(22)} ${round(r.tokens_per_sec).padStart(8)} tokens/s` +
    `  cold ${round(r.cold_compile_s, 1).padStart(5)} s` +
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
      "only measure N cells of the chapter's configuration trained together on the fused engine, for each N (e.g. 1,4,8,24); write cells-<adapter>.json and .md",
    )
    .option(
      "--tiles",
      "only time the fused engine's step and weight-gradient kernels per tile (chapter's sizes); print and exit",
    )
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
      out: string;
      dataDir?: string;
    }
  >();
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
  if (opts.cells) {
    const counts = opts.cells.split(",").map((c) => parseCount(c, "--cells"));
    return await benchCells(counts, corpus, epochs, opts.out);
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

/** The bench's Markdown report. */
function benchReport(
  rows: BenchRow[],
  profile: KernelProfile | null,
  env: Awaited<ReturnType<typeof collectEnv>>,
): string {
  const torch = rows.some((r) => r.vs_pytorch !== undefined);
  return [
    "# Training throughput",
    "",
    "The chapter's configuration (batch 32, 35 steps, 512 hidden units, vocab 28, sequential",
    "partitioning, clipping θ = 1): training tokens per second, median of the measured epochs",
    'after one warm-up epoch; "cold s" is what the warm-up epoch took beyond a measured one',
    "(compiling kernels with Mesa's shader cache off, starting up). Generated by `deno task",
    "bench`; do not edit by hand.",
    "",
    `Machine: ${env.cpu} × ${env.cpu_count}, ${env.os} ${env.arch}; Deno ${env.deno}; git ${
      env.git_commit ?? "unknown"
    }${env.git_dirty ? " (dirty)" : ""}.`,
    "",
    `| engine | backend | computed on | tokens/s | cold s | epochs measured |${
      torch ? " × PyTorch |" : ""
    }`,
    `| --- | --- | --- | ---: | ---: | ---: |${torch ? " ---: |" : ""}`,
    ...rows.map((r) =>
      `| ${r.engine_version}${r.picked ? " (picked)" : ""} | ${r.backend} | ${
        r.adapter ?? "–"
      } | ${r.error ? `skipped: ${r.error}` : round(r.tokens_per_sec)} | ${
        round(r.cold_compile_s, 1)
      } | ${r.epochs_tokens_per_sec.length} |${
        torch ? ` ${r.vs_pytorch?.toFixed(2) ?? "–"} |` : ""
      }`
    ),
    "",
    ...(profile ? profileTable(profile) : []),
  ].join("\n");
}

if (import.meta.main) await runMain(main);
