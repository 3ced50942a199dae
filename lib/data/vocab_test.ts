import assert from "node:assert/strict";
import {
  caseLocale,
  droppedLetters,
  droppedWarning,
  loadCorpus,
  preprocessLines,
  tokenize,
  Vocab,
} from "./vocab.ts";
import { readCorpus } from "./source.ts";
import { TEST_DATA_DIR } from "./testdata.ts";
import { requires } from "../testing.ts";

Deno.test("preprocessLines: non-letters become one space, trimmed, lowercased; CRLF and CR split lines", () => {
  assert.deepEqual(
    preprocessLines(
      "The Time-Machine, by  H. G. Wells [1898]\r\n\r\n  I.\rit's",
    ),
    ["the time machine by h g wells", "", "i", "it s"],
  );
});

Deno.test("Vocab: <unk> first, then reserved, then by frequency with ties in first-seen order", () => {
  const vocab = new Vocab(tokenize(["cab", "bca", "d"]), {
    reserved_tokens: ["<pad>"],
  });
  // counts: c 2, a 2, b 2, d 1; ties keep first-seen order c, a, b.
  assert.deepEqual(vocab.idx_to_token, ["<unk>", "<pad>", "c", "a", "b", "d"]);
  assert.equal(vocab.toIndex("a"), 3);
  assert.equal(vocab.toIndex("z"), 0);
  assert.equal(vocab.toToken(5), "d");
  assert.equal(vocab.length, 6);
});

Deno.test("Vocab: min_freq drops rare tokens to <unk>", () => {
  const vocab = new Vocab(tokenize(["aab"]), { min_freq: 2 });
  assert.deepEqual(vocab.idx_to_token, ["<unk>", "a"]);
  assert.equal(vocab.toIndex("b"), 0);
});

Deno.test("loadCorpus: lines concatenated without separators, truncated, validation follows", () => {
  const { vocab, train, val, corpus_length } = loadCorpus("ab\n\nba!\nc", 3, 2);
  const decode = (xs: Int32Array) =>
    [...xs].map((i) => vocab.toToken(i)).join("");
  assert.equal(corpus_length, 5); // "ab" + "ba" + "c"
  assert.equal(decode(train), "abb");
  assert.equal(decode(val), "ac");
  assert.equal(loadCorpus("abc", 0, 0).train.length, 3); // max_tokens 0 keeps all
});

Deno.test({
  name:
    "The Time Machine: 28-token vocab in d2l's order and 170,580 tokens, derived independently",
  ...requires(["book"], async () => {
    const { text } = await readCorpus("timemachine", {
      dataDir: TEST_DATA_DIR,
      offline: true,
    });
    const corpus = loadCorpus(text);
    // Independent derivation: a character state machine instead of regexes.
    const counts = new Map<string, number>();
    let length = 0;
    for (const line of text.split("\n")) {
      let pendingSpace = false;
      let started = false;
      for (const ch of line.replace(/\r$/, "")) {
        const lower = ch.toLowerCase();
        const isLetter = lower >= "a" && lower <= "z" && ch.length === 1;
        if (!isLetter) {
          pendingSpace = started;
          continue;
        }
        if (pendingSpace) {
          counts.set(" ", (counts.get(" ") ?? 0) + 1);
          length++;
          pendingSpace = false;
        }
        counts.set(lower, (counts.get(lower) ?? 0) + 1);
        length++;
        started = true;
      }
    }
    const firstSeen = [...counts.keys()];
    const expected = [
      "<unk>",
      ...[...counts.entries()].sort((a, b) =>
        b[1] - a[1] || firstSeen.indexOf(a[0]) - firstSeen.indexOf(b[0])
      ).map(([t]) => t),
    ];
    assert.equal(length, 170_580);
    assert.equal(corpus.corpus_length, length);
    assert.equal(corpus.vocab.length, 28);
    assert.deepEqual(corpus.vocab.idx_to_token, expected);
    assert.equal(
      corpus.vocab.idx_to_token.join(""),
      "<unk> etainoshrdlmucfwgypbvkxzjq",
    );
    assert.equal(corpus.train.length, 10_000);
    assert.equal(corpus.val.length, 5_000);
  }),
});

/** A Turkish passage (the opening of The Time Machine, translated). */
const TURKISH =
  `Zaman Yolcusu (ona böyle demek uygun olacak) bize anlaşılması güç bir
konuyu açıklıyordu. Gri gözleri parlıyor ve ışıldıyordu; her zaman solgun olan
yüzü kızarmış ve canlanmıştı. İçimizden biri, Filby, "Işık nereye gider?" diye sordu.`;

Deno.test("letters: the book's A–Z drops a Turkish text's letters and says how many; unicode keeps them, lowercased by Turkish rules", () => {
  // d2l's preprocessing guts the words: ş, ı, ü, ö, ç become spaces.
  assert.deepEqual(preprocessLines("Işık ağır", "ascii"), ["i k a r"]);
  const dropped = droppedLetters(TURKISH);
  assert.deepEqual(dropped, { count: 27, of: 190, chars: "ışüçöi" });
  assert.match(
    droppedWarning("corpus tr.txt", dropped) ?? "",
    /^warning: corpus tr\.txt: d2l's preprocessing keeps only A–Z and drops 14\.2 % of the letters \(27 of 190: ışüçöi\); letters: "unicode" \(--letters unicode\) keeps them$/,
  );
  // Dotless I lowercases to ı and dotted İ to i, as Turkish writes them.
  const kept = preprocessLines(TURKISH, "unicode");
  assert.equal(
    kept[0],
    "zaman yolcusu ona böyle demek uygun olacak bize anlaşılması güç bir",
  );
  assert.match(kept[2], / içimizden biri filby ışık nereye gider diye sordu$/);
  const { vocab } = loadCorpus(TURKISH, 0, 0, "unicode");
  for (const c of "çğıöşü".replace("ğ", "")) {
    assert.ok(vocab.idx_to_token.includes(c), c);
  }
  assert.ok(!vocab.idx_to_token.includes("I"));
  // Outside Turkic text, Unicode's own lowercasing: I → i.
  assert.deepEqual(preprocessLines("Île-de-France, ÉTÉ", "unicode"), [
    "île de france été",
  ]);
  assert.equal(caseLocale("İstanbul"), "tr");
  assert.equal(caseLocale("Paris"), undefined);
  // A combining accent stays with its letter (NFC first).
  assert.deepEqual(preprocessLines("cafe\u0301!", "unicode"), ["café"]);
  // The book's text loses nothing, and no warning is given.
  assert.equal(droppedWarning("x", droppedLetters("The Time Machine")), null);
  // Below 1 %, no warning either (War of the Worlds has ç and æ once each).
  assert.equal(
    droppedWarning("x", { count: 2, of: 281_543, chars: "çæ" }),
    null,
  );
});
