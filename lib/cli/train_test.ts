import assert from "node:assert/strict";
import { isSoftware } from "../engine/fused/tiles.ts";
import { requires } from "../testing.ts";
import { runTask } from "./cli_testing.ts";

const BOOK = `The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
twinkled, and his usually pale face was flushed and animated.\n`.repeat(4);

async function withBook(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/book.txt`, BOOK);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const TINY = [
  "--num_hiddens",
  "8",
  "--num_steps",
  "5",
  "--batch_size",
  "4",
  "--num_epochs",
  "2",
  "--max_tokens",
  "300",
];

// What this machine picks: the fused engine on a hardware GPU, else blas.
const adapter = await navigator.gpu?.requestAdapter();
const PICKED = adapter && !isSoftware(adapter)
  ? { engine: "fused", backend: "webgpu", tfjs: null, adapter: /./ }
  : {
    engine: "blas",
    backend: "cpu",
    tfjs: null,
    adapter: /OpenBLAS|MKL|Accelerate/,
  };

/** `deno task train` of the tiny config on the test's book in `dir`. */
const trainOnBook = (dir: string, args: string[]) =>
  runTask("train", [...TINY, "--corpus", `${dir}/book.txt`, ...args]);
Deno.test({
  name:
    "deno task train writes the JSON record with config, status, curves, samples and env",
  ...requires(["blas"], () =>
    withBook(async (dir) => {
      const json = `${dir}/run.json`;
      const r = await trainOnBook(dir, [
        "--json",
        json,
        "--alpha",
        "1,4",
      ]);
      assert.equal(r.code, 0, r.stderr);
      // Naming no engine, it trains with this machine's pick.
      const picked = PICKED;
      assert.match(
        r.stdout,
        new RegExp(
          `^perplexity [\\d.]+, [\\d.]+ tokens/sec on ${picked.backend} \\(${picked.engine} engine\\)`,
          "m",
        ),
      );
      assert.match(r.stdout, /this machine's fastest/);
      assert.match(r.stdout, /^time traveller/m);
      const record = JSON.parse(await Deno.readTextFile(json));
      for (
        const key of [
          "config",
          "status",
          "train_ppl",
          "val_ppl",
          "tokens_per_sec",
          "samples",
          "env",
        ]
      ) {
        assert.ok(key in record, key);
      }
      assert.equal(record.status, "done");
      assert.equal(record.config.num_hiddens, 8);
      assert.equal(record.config.engine, picked.engine);
      assert.equal(record.config.backend, picked.backend);
      assert.equal(record.train_ppl.length, 2);
      assert.equal(record.samples.length, 2 + 2 * 2);
      assert.equal(record.env.backend, picked.backend);
      assert.match(record.env.adapter.description, picked.adapter);
      assert.equal(record.env.tfjs, picked.tfjs, "no tfjs computed it");
      assert.match(record.env.deno, /^\d+\.\d+\.\d+/);
      assert.match(record.corpus.sha1, /^[0-9a-f]{40}$/);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
        "book.txt",
        "run.json",
      ]);
    })),
});

Deno.test("deno task train: bad input is one clear error with exit status 2 and nothing written", async () => {
  await withBook(async (dir) => {
    const json = `${dir}/out.json`;
    const cases: [string[], RegExp][] = [
      [["--hidden", "3"], /error: unknown option '--hidden'/],
      [["--lr", "fast"], /^error: flags: lr: .*\(got "fast"\)/m],
      [["--clip", "-1"], /^error: flags: clip: .*\(got -1\)/m],
      [
        ["--clip", "never"],
        /^error: flags: clip: expected a number > 0 or "off" \(got "never"\)/m,
      ],
      [["--backend", "cuda"], /^error: flags: backend: .*\(got "cuda"\)/m],
      [
        ["--corpus", `${dir}/missing.txt`],
        /^error: corpus: ".*missing.txt" is neither a known corpus/m,
      ],
      [
        ["--corpus", `${dir}/book.txt`, "--max_tokens", "15"],
        /^error: corpus .*book.txt: 15 training tokens, .* needs at least 26/m,
      ],
      [
        ["--alpha", "1,x"],
        /^error: flags: --alpha: expected numbers > 0, got "x"/m,
      ],
      [
        ["--json", `${dir}/no/such/dir/out.json`],
        /^error: flags: --json: directory .* does not exist/m,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await trainOnBook(dir, [
        "--json",
        json,
        ...args,
      ]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      "book.txt",
    ]);
  });
});

Deno.test("deno task train: a diverged run exits 1 and its record says so", async () => {
  await withBook(async (dir) => {
    const json = `${dir}/run.json`;
    const r = await trainOnBook(dir, [
      "--lr",
      "1e6",
      "--clip",
      "off",
      "--activation",
      "relu",
      "--backend",
      "cpu",
      "--json",
      json,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /diverged: the loss was not finite in epoch \d/);
    const record = JSON.parse(await Deno.readTextFile(json));
    assert.equal(record.status, "diverged");
    assert.ok(record.diverged_epoch >= 1);
  });
});

Deno.test("deno task train: the exercise variants run from flags (embedding input, no detaching, ReLU, no clipping)", async () => {
  await withBook(async (dir) => {
    const json = `${dir}/run.json`;
    const r = await trainOnBook(dir, [
      "--backend",
      "cpu",
      "--input",
      "embedding",
      "--embed_size",
      "6",
      "--detach",
      "false",
      "--activation",
      "relu",
      "--clip",
      "off",
      "--json",
      json,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const record = JSON.parse(await Deno.readTextFile(json));
    assert.deepEqual(
      [
        record.config.input,
        record.config.embed_size,
        record.config.detach,
        record.config.activation,
        record.config.clip,
      ],
      ["embedding", 6, false, "relu", "off"],
    );
    assert.equal(record.status, "done");
    assert.ok(record.train_ppl[1] < record.train_ppl[0]);
    assert.equal(record.grad_norm.clipped_fraction, 0);
  });
});
