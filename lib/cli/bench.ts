/**
 * `deno task bench [--json PATH]`: training throughput (tokens/s) of each
 * engine × backend on the chapter's configuration (batch 32, 35 steps, 512
 * hidden units, vocab 28, sequential, clip 1), warm-up excluded, median of
 * several epochs: the reference engine on each backend, and the fused engine
 * (work in progress) on WebGPU. Writes `results/bench/latest.json` and
 * `README.md`.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import { loadCorpus } from "../data/vocab.ts";
import { type BackendName, BACKENDS, setBackend } from "../model/backend.ts";
import { resolveConfig } from "../train/config.ts";
import { ENGINE_VERSION, train_ch8 } from "../train/train.ts";
import { collectEnv } from "../env.ts";
import { makeRng } from "../data/prng.ts";
import { dataIter } from "../data/iterators.ts";
import { get_params } from "../model/rnn.ts";
import { FUSED_VERSION, FusedRnn } from "../engine/fused.ts";
import { writeJsonAtomic, writeTextAtomic } from "../fsutil.ts";
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
  engine: string;
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

/**
 * The fused engine (work in progress) on its own WebGPU device, the same
 * config and epochs: one warm-up epoch, then the median of the measured ones.
 */
async function benchFused(
  train: Int32Array,
  V: number,
  epochs: number,
): Promise<BenchRow> {
  const row: BenchRow = {
    engine: FUSED_VERSION,
    backend: "webgpu",
    adapter: null,
    tokens_per_sec: 0,
    epochs_tokens_per_sec: [],
    warmup_epochs: 1,
  };
  try {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter");
    row.adapter = adapter.info.description || adapter.info.vendor;
    const device = await adapter.requestDevice();
    const c = resolveConfig({});
    const spec = {
      vocab_size: V,
      num_hiddens: c.num_hiddens,
      activation: c.activation,
      input: c.input,
      embed_size: c.embed_size,
    };
    const net = new FusedRnn(
      device,
      { B: c.batch_size, T: c.num_steps, H: c.num_hiddens, V },
      c.activation,
      get_params(spec, makeRng(c.seed)),
    );
    const rng = makeRng(c.seed + 1);
    for (let e = 0; e < 1 + epochs; e++) {
      const r = await net.trainEpoch(
        dataIter(c.sampling, train, c.batch_size, c.num_steps, rng),
        c,
      );
      if (e > 0) row.epochs_tokens_per_sec.push(r.tokens / r.seconds);
    }
    row.tokens_per_sec = median(row.epochs_tokens_per_sec);
    net.destroy();
    device.destroy();
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
  }
  console.log(
    `${row.engine.padEnd(12)} webgpu  ${
      row.error
        ? `skipped: ${row.error}`
        : `${Math.round(row.tokens_per_sec)} tokens/s`
    }`,
  );
  return row;
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
    .option(...DATA_DIR_OPTION);
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<
    {
      backends: string;
      epochs: string;
      cpuEpochs: string;
      json?: string;
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
  const epochs = parseCount(opts.epochs, "--epochs");
  const cpuEpochs = parseCount(opts.cpuEpochs, "--cpu-epochs");
  const source = await readCorpus("timemachine", sourceOptions(opts.dataDir));
  const corpus = loadCorpus(source.text);
  const rows: BenchRow[] = [];
  for (const backend of backends) {
    const measured = backend === "cpu" ? cpuEpochs : epochs;
    const row: BenchRow = {
      engine: ENGINE_VERSION,
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
      `${row.engine.padEnd(12)} ${backend.padEnd(7)} ${
        row.error
          ? `skipped: ${row.error}`
          : `${Math.round(row.tokens_per_sec)} tokens/s`
      }${row.adapter ? `  (${row.adapter})` : ""}`,
    );
  }
  if (backends.includes("webgpu")) {
    rows.push(await benchFused(corpus.train, corpus.vocab.length, epochs));
  }
  const env = await collectEnv();
  const out = {
    schema: "rnnlab.bench/1",
    config: resolveConfig({ num_epochs: 1 }),
    rows,
    env,
  };
  const dir = `${ROOT}/results/bench`;
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
      `| ${r.engine} | ${r.backend} | ${r.adapter ?? "–"} | ${
        r.error ? `skipped: ${r.error}` : Math.round(r.tokens_per_sec)
      } | ${r.epochs_tokens_per_sec.length} |`
    ),
    "",
  ].join("\n");
  await writeTextAtomic(`${dir}/README.md`, table);
  if (opts.json) await writeJsonAtomic(opts.json, out);
  return rows.some((r) => r.error) ? 1 : 0;
}

if (import.meta.main) await runMain(main);
