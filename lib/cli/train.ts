/**
 * `deno task train`: one run of the chapter (d2l `train_ch8`) with any config
 * key as a flag, progress like the book's, and an optional JSON record.
 *
 * Exit status: 0 when the run finished, 1 when it diverged or failed, 2 on
 * bad input.
 *
 * @module
 */
import { Command } from "commander";
import { UserError } from "../errors.ts";
import { readCorpus } from "../data/source.ts";
import { describeCorpus } from "../data/describe.ts";
import { corpusFor, lettersWarning } from "../data/vocab.ts";
import {
  CONFIG,
  CONFIG_KEYS,
  parseFlagValue,
  resolveConfig,
} from "../config/config.ts";
import { type EpochLog, minTrainTokens, train_ch8 } from "../train/train.ts";
import { collectEnv } from "../env.ts";
import { describeBackend, pickEngine } from "../engine/pick.ts";
import { NO_ADAPTER } from "../engine/adapter.ts";
import {
  checkJsonTarget,
  DATA_DIR_OPTION,
  parseCommand,
  runMain,
  sourceOptions,
  writeJsonOutput,
} from "./common.ts";

function progressLine(log: EpochLog, num_epochs: number): string {
  const parts = [
    `epoch ${
      String(log.epoch).padStart(String(num_epochs).length)
    }/${num_epochs}`,
    `perplexity ${log.train_ppl.toFixed(2)}`,
    log.val_ppl != null ? `val ${log.val_ppl.toFixed(2)}` : "",
    `${Math.round(log.tokens_per_sec)} tokens/sec`,
    `clipped ${(100 * log.clipped_fraction).toFixed(0)}%`,
  ].filter(Boolean);
  return parts.join("  ") + (log.sample ? `  | ${log.sample}` : "");
}

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task train")
    .description(
      "Train the chapter's RNN from scratch (d2l sec_rnn_scratch) once.",
    );
  for (const { flag, help } of CONFIG.flags()) program.option(flag, help);
  program
    .option(
      "--alpha <list>",
      "also sample after training at these α, e.g. 1,2,4",
    )
    .option(...DATA_DIR_OPTION)
    .option("--json <path>", "write the run record as JSON to this file")
    .option("--quiet", "print only the final lines");
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<Record<string, string | boolean>>();
  const partial: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    if (typeof opts[key] === "string") {
      partial[key] = parseFlagValue(key, opts[key] as string);
    }
  }
  const machine = await pickEngine();
  const config = resolveConfig(partial, "flags", machine);
  const alphas = typeof opts.alpha === "string"
    ? opts.alpha.split(",").map((s) => {
      const a = Number(s);
      if (s.trim() === "" || !(a > 0) || !Number.isFinite(a)) {
        throw new UserError(
          `flags: --alpha: expected numbers > 0, got ${JSON.stringify(s)}`,
        );
      }
      return a;
    })
    : [];
  const jsonPath = typeof opts.json === "string" ? opts.json : undefined;
  // Checked before training, so a finished run never loses its record.
  if (jsonPath) await checkJsonTarget(jsonPath, "flags: --json");
  const source = await readCorpus(
    config.corpus,
    sourceOptions(typeof opts.dataDir === "string" ? opts.dataDir : undefined),
  );
  const corpus = corpusFor(source.text, config);
  const minimum = minTrainTokens(config);
  if (corpus.train.length < minimum) {
    throw new UserError(
      `corpus ${source.source}: ${corpus.train.length} training tokens, but a minibatch of ` +
        `batch_size × num_steps after a random offset needs at least ${minimum}`,
    );
  }
  const warning = lettersWarning(
    `corpus ${source.source}`,
    source.text,
    config.letters,
  );
  if (warning) console.error(warning);
  const backend = await describeBackend(config);
  if (config.backend === "webgpu" && !backend.adapter) {
    throw new UserError(NO_ADAPTER);
  }
  const quiet = opts.quiet === true;
  if (!quiet) {
    const device = backend.adapter ? ` (${backend.adapter.description})` : "";
    const picked = config.engine === machine.engine &&
        config.backend === machine.backend && !partial.engine &&
        !partial.backend
      ? ", this machine's fastest"
      : "";
    console.log(
      `training on ${source.name} (${corpus.train.length} tokens, vocab ${corpus.vocab.length}) ` +
        `with the ${config.engine} engine on ${backend.backend}${device}${picked}`,
    );
  }
  const result = await train_ch8(config, corpus, {
    sample_alphas: alphas,
    onEpoch: (log) => {
      if (!quiet && (log.epoch === 1 || log.val_ppl !== undefined)) {
        console.log(progressLine(log, config.num_epochs));
      }
    },
  });
  const final = result.final.train_ppl;
  if (result.status === "done") {
    console.log(
      `perplexity ${final?.toFixed(1)}, ${
        result.tokens_per_sec.toFixed(1)
      } tokens/sec on ${backend.backend} (${config.engine} engine)` +
        (result.final.val_ppl != null
          ? ` (validation perplexity ${result.final.val_ppl.toFixed(1)})`
          : ""),
    );
    for (const s of result.samples) {
      console.log(
        s.decoding === "greedy" ? s.text : `[α=${s.alpha}] ${s.text}`,
      );
    }
  } else if (result.status === "diverged") {
    console.log(
      `diverged: the loss was not finite in epoch ${result.diverged_epoch}`,
    );
  } else {
    console.log(`failed: ${result.error}`);
  }
  if (jsonPath) {
    const record = {
      schema: "rnnlab.train/1",
      config,
      ...result,
      corpus: describeCorpus(source, corpus, config.letters),
      env: { ...(await collectEnv()), ...backend },
    };
    await writeJsonOutput(jsonPath, record, "flags: --json");
    if (!quiet) console.log(`wrote ${jsonPath}`);
  }
  return result.status === "done" ? 0 : 1;
}

if (import.meta.main) await runMain(main);
