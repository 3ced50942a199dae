/**
 * `deno task bench [--json PATH]`: training throughput (tokens/s) of each
 * engine × backend on the chapter's configuration (batch 32, 35 steps, 512
 * hidden units, vocab 28, sequential, clip 1), warm-up excluded, median of
 * several epochs: the fused engine on WebGPU, and the reference engine on
 * each backend. Writes `results/bench/latest.json` and
 * `README.md`.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import { loadCorpus } from "../data/vocab.ts";
import { type BackendName, BACKENDS, setBackend } from "../model/backend.ts";
import { type Engine, resolveConfig } from "../train/config.ts";
import { engineVersion, rnnSpec, train_ch8 } from "../train/train.ts";
import { collectEnv } from "../env.ts";
import { writeJsonAtomic, writeTextAtomic } from "../fsutil.ts";
import { makeRng } from "../data/prng.ts";
import { dataIter } from "../data/iterators.ts";
import { get_params } from "../model/rnn.ts";
import { FusedRnn, tilesFor } from "../engine/fused.ts";
import { timeTiles } from "../engine/tune.ts";
import {
  DATA_DIR_OPTION,
  parseCommand,
  parseCount,
  runMain,
  sourceOptions,
} from "./common.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** One measured engine × backend. */
export interface BenchRow {
  engine: Engine;
  /** The engine's version, as cell ids include it. */
  engine_version: string;
  backend: BackendName;
  adapter: string | null;
  /** Median over the measured epochs. */
  tokens_per_sec: number;
  /** Each measured epoch's tokens/s (after the warm-up epoch). */
  epochs_tokens_per_sec: number[];
  warmup_epochs: number;
  /** A skipped backend says why. */
  error?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
  console.log("kernel      rows/wg  vec4/lane      ms  GFLOP/s");
  for (const t of await timeTiles(device, c.batch_size, c.num_hiddens)) {
    console.log(
      `${t.kernel.padEnd(10)} ${String(t.rb).padStart(8)} ${
        String(t.cv).padStart(10)
      } ${t.ms.toFixed(3).padStart(7)} ${t.gflops.toFixed(2).padStart(8)}`,
    );
  }
  device.destroy();
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

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task bench")
    .description(
      "Measure training tokens/s of each engine and backend on the chapter's config.",
    )
    .option("--backends <list>", "backends to measure", BACKENDS.join(","))
    .option(
      "--epochs <n>",
      "measured epochs per backend (after one warm-up epoch)",
      "3",
    )
    .option("--cpu-epochs <n>", "measured epochs on the slow cpu backend", "1")
    .option("--json <path>", "also write the JSON here")
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
      backends: string;
      epochs: string;
      cpuEpochs: string;
      json?: string;
      tiles?: boolean;
      out: string;
      dataDir?: string;
    }
  >();
  const backends = opts.backends.split(",") as BackendName[];
  for (const b of backends) {
    if (!BACKENDS.includes(b)) {
      throw new UserError(
        `--backends: unknown backend ${JSON.stringify(b)} (${
          BACKENDS.join(", ")
        })`,
      );
    }
  }
  if (opts.tiles) return await printTiles();
  const epochs = parseCount(opts.epochs, "--epochs");
  const cpuEpochs = parseCount(opts.cpuEpochs, "--cpu-epochs");
  const source = await readCorpus("timemachine", sourceOptions(opts.dataDir));
  const corpus = loadCorpus(source.text);
  const rows: BenchRow[] = [];
  // The fused engine first (WebGPU only), then the reference on each backend.
  const runs: (readonly [Engine, BackendName])[] = [
    ...(backends.includes("webgpu") ? [["fused", "webgpu"] as const] : []),
    ...backends.map((b) => ["reference", b] as const),
  ];
  for (const [engine, backend] of runs) {
    const measured = backend === "cpu" ? cpuEpochs : epochs;
    const row: BenchRow = {
      engine,
      engine_version: engineVersion({ engine }),
      backend,
      adapter: null,
      tokens_per_sec: 0,
      epochs_tokens_per_sec: [],
      warmup_epochs: 1,
    };
    try {
      const info = await setBackend(backend);
      row.adapter = info.adapter
        ? String(info.adapter.description || info.adapter.vendor)
        : null;
      // The chapter's config; evaluation only after the last epoch, outside the timing.
      const config = resolveConfig({
        backend,
        engine,
        num_epochs: 1 + measured,
        eval_every: 1000,
        num_preds: 0,
      });
      const result = await train_ch8(config, corpus);
      if (result.status !== "done") {
        throw new Error(result.error ?? result.status);
      }
      row.epochs_tokens_per_sec = result.epochs.slice(1).map((e) =>
        e.tokens_per_sec
      );
      row.tokens_per_sec = median(row.epochs_tokens_per_sec);
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    }
    rows.push(row);
    console.log(
      `${engine.padEnd(10)} ${backend.padEnd(7)} ${
        row.error
          ? `skipped: ${row.error}`
          : `${Math.round(row.tokens_per_sec)} tokens/s`
      }${row.adapter ? `  (${row.adapter})` : ""}`,
    );
  }
  const profile = backends.includes("webgpu")
    ? await profileFused(corpus.train, corpus.vocab.length)
    : null;
  const env = await collectEnv();
  const out = {
    schema: "rnnlab.bench/1",
    config: resolveConfig({ num_epochs: 1 }),
    rows,
    profile,
    env,
  };
  const dir = opts.out;
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(`${dir}/latest.json`, out);
  const table = [
    "# Training throughput",
    "",
    "The chapter's configuration (batch 32, 35 steps, 512 hidden units, vocab 28, sequential",
    "partitioning, clipping θ = 1): training tokens per second, median of the measured epochs",
    "after one warm-up epoch. Generated by `deno task bench`; do not edit by hand.",
    "",
    `Machine: ${env.cpu} × ${env.cpu_count}, ${env.os} ${env.arch}; Deno ${env.deno}; git ${
      env.git_commit ?? "unknown"
    }${env.git_dirty ? " (dirty)" : ""}.`,
    "",
    "| engine | backend | adapter | tokens/s | epochs measured |",
    "| --- | --- | --- | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.engine_version} | ${r.backend} | ${r.adapter ?? "–"} | ${
        r.error ? `skipped: ${r.error}` : Math.round(r.tokens_per_sec)
      } | ${r.epochs_tokens_per_sec.length} |`
    ),
    "",
    ...(profile ? profileTable(profile) : []),
  ].join("\n");
  await writeTextAtomic(`${dir}/README.md`, table);
  if (opts.json) await writeJsonAtomic(opts.json, out);
  return rows.some((r) => r.error) ? 1 : 0;
}

if (import.meta.main) await runMain(main);
