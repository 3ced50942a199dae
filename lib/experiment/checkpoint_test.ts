import assert from "node:assert/strict";
import { resolveConfig, type TrainConfig } from "../config/config.ts";
import { loadCorpus } from "../data/vocab.ts";
import { PASSAGE } from "../data/testdata.ts";
import { type RunState, train_cells } from "../train/train.ts";
import { requires } from "../testing.ts";
import {
  checkpointPath,
  readCheckpoint,
  removeCheckpoint,
  trajectoryId,
  writeCheckpoint,
} from "./checkpoint.ts";

const config = resolveConfig({
  num_hiddens: 8,
  num_steps: 5,
  batch_size: 4,
  num_epochs: 4,
  max_tokens: 250,
  val_tokens: 60,
  eval_every: 2,
  num_preds: 5,
  engine: "blas",
  clip: "off",
});
const corpus = loadCorpus(PASSAGE, 250, 60);
const SHA1 = "a".repeat(40);
const HERE = "cpu";

/** The states of a real run after each epoch. */
async function states(c: TrainConfig = config): Promise<RunState[]> {
  const out: RunState[] = [];
  await train_cells(
    [{
      config: c,
      corpus,
      hooks: { onCheckpoint: (s) => void out.push(s) },
    }],
    1,
    { every_seconds: 0, final: true },
  );
  return out;
}

const of = (c: TrainConfig = config) => ({
  config: c,
  corpus_sha1: SHA1,
  computed_on: HERE,
  vocab_size: corpus.vocab.length,
});

Deno.test({
  name:
    "a checkpoint reads back as the state written, Infinity included; a cell of more epochs goes on from it, one of fewer does not",
  ...requires(["blas"], async () => {
    const dir = await Deno.makeTempDir();
    try {
      const [, second] = await states();
      // A norm that overflowed is kept as the number it was.
      second.norms[0] = Infinity;
      await writeCheckpoint(dir, { ...of(), state: second, final: false });
      const found = await readCheckpoint(dir, of());
      assert.ok(found && "state" in found, JSON.stringify(found));
      assert.equal(found.state.norms[0], Infinity);
      assert.deepEqual(found.state, second);
      // The trajectory leaves num_epochs out: 10 epochs go on from it, 1 cannot.
      const longer = { ...config, num_epochs: 10 };
      assert.equal(
        await trajectoryId(longer, SHA1),
        await trajectoryId(config, SHA1),
      );
      assert.ok("state" in (await readCheckpoint(dir, of(longer)))!);
      assert.equal(
        await readCheckpoint(dir, of({ ...config, num_epochs: 1 })),
        undefined,
      );
      await removeCheckpoint(dir, config, SHA1);
      assert.equal(await readCheckpoint(dir, of()), undefined);
      await removeCheckpoint(dir, config, SHA1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }),
});

Deno.test({
  name:
    "a final state is gone on from only where the longer cell evaluates too; a damaged or foreign checkpoint is refused, naming why",
  ...requires(["blas"], async () => {
    const dir = await Deno.makeTempDir();
    try {
      const three = { ...config, num_epochs: 3 };
      const all = await states(three);
      const last = all.at(-1)!;
      assert.equal(last.epoch, 3);
      // Epoch 3 was evaluated only because it was the last (eval_every 2).
      await writeCheckpoint(dir, { ...of(three), state: last, final: true });
      assert.equal(
        await readCheckpoint(dir, of({ ...config, num_epochs: 5 })),
        undefined,
      );
      assert.ok("state" in (await readCheckpoint(dir, of(three)))!);
      await writeCheckpoint(dir, { ...of(three), state: all[1], final: false });
      const path = checkpointPath(dir, await trajectoryId(config, SHA1));
      const good = await Deno.readTextFile(path);
      const refused = async (text: string, c = config) => {
        await Deno.writeTextFile(path, text);
        const found = await readCheckpoint(dir, of(c));
        assert.ok(found && "refused" in found, JSON.stringify(found));
        assert.equal(found.path, path);
        return found.refused;
      };
      assert.match(await refused(good.slice(0, 1000)), /damaged: not JSON/);
      const file = JSON.parse(good);
      const flipped = file.state.params.W_hh.values.replace(
        /^./,
        (c: string) => c === "A" ? "B" : "A",
      );
      assert.match(
        await refused(JSON.stringify({
          ...file,
          state: {
            ...file.state,
            params: {
              ...file.state.params,
              W_hh: { ...file.state.params.W_hh, values: flipped },
            },
          },
        })),
        /damaged: its content does not match its SHA-1/,
      );
      assert.match(
        await refused(JSON.stringify({ ...file, schema: "rnnlab.cell/2" })),
        /not a checkpoint: schema/,
      );
      // Another config's, engine's or adapter's file under this name.
      const foreign = async (change: Record<string, unknown>) => {
        const other = await Deno.makeTempDir({ dir });
        const c = { ...config, ...change.config as object } as TrainConfig;
        const sha1 = (change.corpus_sha1 as string) ?? SHA1;
        await writeCheckpoint(other, {
          ...of(c),
          corpus_sha1: sha1,
          computed_on: (change.computed_on as string) ?? HERE,
          state: all[1],
          final: false,
        });
        return await refused(
          await Deno.readTextFile(
            checkpointPath(other, await trajectoryId(c, sha1)),
          ),
        );
      };
      assert.match(
        await foreign({ config: { lr: 2 } }),
        /of another config \(lr 2, not 1\)/,
      );
      assert.match(
        await foreign({ config: { engine: "fused", backend: "webgpu" } }),
        /of engine fused\/\d+, not blas\/\d+/,
      );
      assert.match(
        await foreign({ computed_on: "webgpu (llvmpipe)" }),
        /computed on webgpu \(llvmpipe\); this cell computes on cpu/,
      );
      assert.match(
        await foreign({ corpus_sha1: "b".repeat(40) }),
        /of another corpus \(SHA-1 b{40}, not a{40}\)/,
      );
      // The good file again: gone on from.
      await Deno.writeTextFile(path, good);
      assert.ok("state" in (await readCheckpoint(dir, of()))!);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }),
});
