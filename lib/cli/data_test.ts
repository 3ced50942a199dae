import assert from "node:assert/strict";
import { runTask } from "./cli_testing.ts";
import { TEST_DATA_DIR } from "../data/testdata.ts";
import { requires } from "../testing.ts";

Deno.test({
  name:
    "deno task data --json: the Time Machine's vocab, length and SHA-1 from the data directory",
  ...requires(["book"], async () => {
    const r = await runTask("data", ["--json", "--data-dir", TEST_DATA_DIR], {
      RNNLAB_OFFLINE: "1",
    });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.vocab.length, 28);
    assert.equal(info.vocab.join(""), "<unk> etainoshrdlmucfwgypbvkxzjq");
    assert.equal(info.corpus_length, 170_580);
    assert.equal(info.sha1, "090b5e7e70c295757f55df93cb0a180b9691891a");
    assert.equal(info.train_tokens, 10_000);
  }),
});

Deno.test({
  name:
    "deno task data --data-dir: a directory whose path holds a space and non-ASCII letters",
  ...requires(["book"], async () => {
    const dir = await Deno.makeTempDir({ prefix: "rnnlab böcher dir " });
    try {
      await Deno.copyFile(
        `${TEST_DATA_DIR}/timemachine.txt`,
        `${dir}/timemachine.txt`,
      );
      const r = await runTask("data", ["--json", "--data-dir", dir], {
        RNNLAB_OFFLINE: "1",
        RNNLAB_CACHE_DIR: dir,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        JSON.parse(r.stdout).sha1,
        "090b5e7e70c295757f55df93cb0a180b9691891a",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }),
});

Deno.test("deno task data: offline without the file names what to download and where", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const r = await runTask("data", ["--data-dir", empty], {
      RNNLAB_OFFLINE: "1",
      RNNLAB_CACHE_DIR: empty,
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: corpus "timemachine": not found in the data directory .* download http:\/\/d2l-data/,
    );
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test({
  name:
    "deno task data: The War of the Worlds without its Gutenberg header and licence",
  ...requires(["book"], async () => {
    const r = await runTask("data", [
      "--json",
      "--corpus",
      "war-of-the-worlds",
      "--data-dir",
      TEST_DATA_DIR,
    ], {
      RNNLAB_OFFLINE: "1",
    });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    const raw = await Deno.readTextFile(
      `${TEST_DATA_DIR}/war_of_the_worlds.txt`,
    );
    const letters = (s: string) => s.replace(/[^A-Za-z]+/g, "").length;
    const start = raw.indexOf("*** START OF");
    const end = raw.indexOf("*** END OF");
    assert.ok(start > 0 && end > start);
    const body = raw.slice(raw.indexOf("\n", start) + 1, end);
    const spaces = Object.fromEntries(info.token_freqs)[" "];
    // Every letter of the book between the markers, and none of the licence.
    assert.equal(info.corpus_length - spaces, letters(body));
    assert.ok(letters(raw) - letters(body) > 10_000, "the licence is long");
    assert.equal(info.vocab.length, 28);
  }),
});
