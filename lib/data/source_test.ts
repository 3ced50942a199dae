import assert from "node:assert/strict";
import { UserError } from "../errors.ts";
import {
  decodeCorpus,
  KNOWN_CORPORA,
  readCorpus,
  sha1Hex,
  stripGutenberg,
} from "./source.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const TM = KNOWN_CORPORA.timemachine;

Deno.test("stripGutenberg keeps only the text between the START and END lines", () => {
  const text =
    "Header\r\n*** START OF THE PROJECT GUTENBERG EBOOK THE WAR OF THE WORLDS ***\r\n" +
    "The book.\r\n*** END OF THE PROJECT GUTENBERG EBOOK THE WAR OF THE WORLDS ***\r\nLicence";
  assert.equal(stripGutenberg(text), "\r\nThe book.\r\n");
  assert.equal(stripGutenberg("no markers"), "no markers");
});

Deno.test("decodeCorpus drops a BOM and rejects empty, binary, non-UTF-8 and letterless files, naming the file", () => {
  assert.equal(
    decodeCorpus(new Uint8Array([0xef, 0xbb, 0xbf, ...enc("Hi")]), "f"),
    "Hi",
  );
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(), /^book\.txt: the file is empty/],
    [new Uint8Array([65, 0, 66]), /^book\.txt: the file is binary/],
    [new Uint8Array([0xc3, 0x28]), /^book\.txt: the file is not valid UTF-8/],
    [enc("1234 !!"), /^book\.txt: the text has no letters/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(
      () => decodeCorpus(bytes, "book.txt"),
      (e) => e instanceof UserError && message.test(e.message),
    );
  }
});

Deno.test("readCorpus: the data directory comes first and a wrong SHA-1 is an error naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/timemachine.txt`, "not the book");
    await assert.rejects(
      readCorpus("timemachine", { dataDir: dir, offline: true }),
      (e) =>
        e instanceof UserError &&
        e.message.includes(`${dir}/timemachine.txt: SHA-1 is`) &&
        e.message.includes(TM.sha1!),
    );
    // No pinned SHA-1 for The War of the Worlds: any text is taken, and its SHA-1 recorded.
    await Deno.writeTextFile(
      `${dir}/war_of_the_worlds.txt`,
      "\uFEFFNo one would have believed\r\n",
    );
    const c = await readCorpus("war-of-the-worlds", {
      dataDir: dir,
      offline: true,
    });
    assert.equal(c.text, "No one would have believed\r\n");
    assert.equal(c.source, `${dir}/war_of_the_worlds.txt`);
    assert.equal(c.sha1, await sha1Hex(await Deno.readFile(c.source)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCorpus: downloads into the cache once, verifying the SHA-1 first", async () => {
  const cacheDir = await Deno.makeTempDir();
  const book = enc("The Time Traveller");
  let calls = 0;
  const fakeFetch = (body: Uint8Array) =>
    ((url: string | URL | Request) => {
      calls++;
      assert.equal(String(url), TM.url);
      return Promise.resolve(new Response(body as Uint8Array<ArrayBuffer>));
    }) as typeof fetch;
  const known = { ...TM };
  try {
    // A pinned SHA-1 that does not match the bytes: error, nothing cached.
    await assert.rejects(
      readCorpus("timemachine", { cacheDir, fetch: fakeFetch(book) }),
      (e) =>
        e instanceof UserError && e.message.startsWith(`${TM.url}: SHA-1 is`),
    );
    assert.deepEqual([...Deno.readDirSync(cacheDir)], []);
    // Pin the fake book's SHA-1 for this test, then the download lands in the cache.
    KNOWN_CORPORA.timemachine = { ...TM, sha1: await sha1Hex(book) };
    const first = await readCorpus("timemachine", {
      cacheDir,
      fetch: fakeFetch(book),
    });
    assert.equal(first.source, TM.url);
    const second = await readCorpus("timemachine", {
      cacheDir,
      fetch: fakeFetch(book),
    });
    assert.equal(second.source, `${cacheDir}/timemachine.txt`);
    assert.equal(calls, 2);
    assert.equal(second.text, "The Time Traveller");
  } finally {
    KNOWN_CORPORA.timemachine = known;
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("readCorpus: offline without data, a failed download, or a missing path give one clear error", async () => {
  await assert.rejects(
    readCorpus("timemachine", { dataDir: "/nonexistent", offline: true }),
    (e) =>
      e instanceof UserError && e.message.includes("downloads are off") &&
      e.message.includes(TM.url) &&
      e.message.includes("RNNLAB_DATA_DIR"),
  );
  const cacheDir = await Deno.makeTempDir();
  try {
    const failing = (() =>
      Promise.reject(new TypeError("network unreachable"))) as typeof fetch;
    await assert.rejects(
      readCorpus("timemachine", { cacheDir, fetch: failing }),
      (e) =>
        e instanceof UserError && e.message.includes("download from") &&
        e.message.includes("network unreachable"),
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
  await assert.rejects(
    readCorpus("/no/such/book.txt"),
    (e) =>
      e instanceof UserError &&
      e.message.includes('"/no/such/book.txt" is neither a known corpus'),
  );
});
