/**
 * `deno task data`: what the chapter's data pipeline makes of a corpus —
 * vocabulary, lengths, SHA-1, source — as text or one JSON object.
 *
 * @module
 */
import { Command } from "commander";
import { readCorpus } from "../data/source.ts";
import { describeCorpus } from "../data/describe.ts";
import { corpusFor, droppedLetters, lettersWarning } from "../data/vocab.ts";
import { parseFlagValue, resolveConfig } from "../config/config.ts";
import {
  DATA_DIR_OPTION,
  parseCommand,
  runMain,
  sourceOptions,
} from "./common.ts";

async function main(): Promise<number> {
  const program = new Command()
    .name("deno task data")
    .description("Show the corpus, vocabulary and splits a run would use.")
    .option(
      "--corpus <name>",
      "timemachine | war-of-the-worlds | PATH (default timemachine)",
    )
    .option("--max_tokens <n>", "training tokens (default 10000; 0 = all)")
    .option(
      "--letters <which>",
      "ascii (A–Z, the book's) | unicode (any script's letters) (default ascii)",
    )
    .option(
      "--val_tokens <n>",
      "held-out tokens after the training slice (default 5000)",
    )
    .option(...DATA_DIR_OPTION)
    .option("--json", "print one JSON object");
  const status = parseCommand(program);
  if (status !== null) return status;
  const opts = program.opts<Record<string, string | boolean | undefined>>();
  const partial: Record<string, unknown> = {};
  for (const key of ["corpus", "max_tokens", "val_tokens", "letters"]) {
    if (typeof opts[key] === "string") {
      partial[key] = parseFlagValue(key, opts[key] as string);
    }
  }
  const config = resolveConfig(partial, "flags");
  const source = await readCorpus(
    config.corpus,
    sourceOptions(typeof opts.dataDir === "string" ? opts.dataDir : undefined),
  );
  const letters = config.letters ?? "ascii";
  const corpus = corpusFor(source.text, config);
  const described = describeCorpus(source, corpus, letters);
  const warning = lettersWarning(
    `corpus ${source.source}`,
    source.text,
    letters,
  );
  if (warning) console.error(warning);
  const info = {
    ...described,
    vocab_size: corpus.vocab.length,
    token_freqs: corpus.vocab.token_freqs,
  };
  if (opts.json) {
    console.log(JSON.stringify(info));
    return 0;
  }
  const show = (t: string) => t === " " ? "' '" : t;
  console.log(`corpus         ${info.name} (${info.source})`);
  console.log(`sha1           ${info.sha1}`);
  console.log(`corpus_length  ${info.corpus_length} tokens (characters)`);
  console.log(
    `training       ${info.train_tokens} tokens (max_tokens ${config.max_tokens})`,
  );
  console.log(
    `validation     ${info.val_tokens} tokens (val_tokens ${config.val_tokens})`,
  );
  const dropped = droppedLetters(source.text);
  console.log(
    `letters        ${letters}: ${
      letters === "ascii"
        ? `${dropped.count} of ${dropped.of} letters not A–Z, dropped${
          dropped.count ? ` (${dropped.chars})` : ""
        }`
        : `all ${dropped.of} kept, ${dropped.count} of them not A–Z`
    }`,
  );
  console.log(
    `vocab          ${info.vocab_size} tokens: ${
      info.vocab.map(show).join(" ")
    }`,
  );
  console.log(
    `top tokens     ${
      info.token_freqs.slice(0, 10).map(([t, n]) => `${show(t)}:${n}`).join(" ")
    }`,
  );
  return 0;
}

if (import.meta.main) await runMain(main);
