/**
 * d2l's text preprocessing (`read_time_machine`, `tokenize`, `Vocab`,
 * `load_corpus_time_machine`), as pure functions over a string.
 *
 * @module
 */

/**
 * Which letters preprocessing keeps: `ascii`, d2l's A–Z (every other letter
 * becomes a space), or `unicode`, every letter of any script (with its
 * combining marks), so a Turkish, French or Greek text keeps its words.
 */
export type Letters = "ascii" | "unicode";

/**
 * How `unicode` letters are lowercased for `text`: Turkic rules ("tr": I →
 * ı, İ → i) when the text holds the dotless ı or the dotted İ, which only
 * Turkic alphabets use; else Unicode's default (undefined).
 */
export function caseLocale(text: string): "tr" | undefined {
  return /[ıİ]/.test(text) ? "tr" : undefined;
}

/**
 * Splits a text into lines and cleans each as d2l's `read_time_machine` does:
 * every run of non-letters becomes one space, then trim and lowercase. With
 * `letters: "unicode"` a letter is any Unicode letter (the text is first
 * put in NFC, so an accent stays with its letter), lowercased as
 * {@linkcode caseLocale} says.
 *
 * @example
 * ```ts
 * preprocessLines("The Time-Machine,\r\nby H. G. Wells"); // ["the time machine", "by h g wells"]
 * preprocessLines("Işık Ülkesi", "unicode"); // ["ışık ülkesi"]
 * ```
 */
export function preprocessLines(
  text: string,
  letters: Letters = "ascii",
): string[] {
  if (letters === "ascii") {
    return text.split(/\r\n|\r|\n/).map((line) =>
      line.replace(/[^A-Za-z]+/g, " ").trim().toLowerCase()
    );
  }
  const locale = caseLocale(text);
  return text.normalize("NFC").split(/\r\n|\r|\n/).map((line) =>
    line.replace(/[^\p{L}\p{M}]+/gu, " ").trim().toLocaleLowerCase(locale)
  );
}

/** Letters of a text that d2l's A–Z preprocessing drops. */
export interface DroppedLetters {
  /** Letters not in A–Z (after NFC), which `ascii` turns into spaces. */
  count: number;
  /** All letters of the text. */
  of: number;
  /** The most frequent dropped letters, most frequent first. */
  chars: string;
}

/**
 * Counts the letters `ascii` preprocessing would drop from `text`.
 *
 * @example
 * ```ts
 * droppedLetters("Çay ve şeker"); // { count: 2, of: 10, chars: "çş" }
 * ```
 */
export function droppedLetters(text: string): DroppedLetters {
  const counts = new Map<string, number>();
  let of = 0, count = 0;
  for (const [c] of text.normalize("NFC").matchAll(/\p{L}/gu)) {
    of++;
    if (/[A-Za-z]/.test(c)) continue;
    count++;
    const lower = c.toLocaleLowerCase(caseLocale(text));
    counts.set(lower, (counts.get(lower) ?? 0) + 1);
  }
  const chars = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12)
    .map(([c]) => c).join("");
  return { count, of, chars };
}

/**
 * The warning {@linkcode droppedWarning} gives for `text` under a run's
 * `letters` setting: none with `unicode`, which drops no letter.
 */
export function lettersWarning(
  where: string,
  text: string,
  letters: Letters = "ascii",
): string | null {
  return letters === "unicode"
    ? null
    : droppedWarning(where, droppedLetters(text));
}

/** Share of dropped letters above which `train`, `data` and the runner warn. */
export const DROPPED_LETTERS_WARNING = 0.01;

/**
 * A warning when d2l's A–Z preprocessing would drop more than
 * {@linkcode DROPPED_LETTERS_WARNING} of a text's letters, else null.
 */
export function droppedWarning(
  where: string,
  dropped: DroppedLetters,
): string | null {
  const share = dropped.of ? dropped.count / dropped.of : 0;
  if (share <= DROPPED_LETTERS_WARNING) return null;
  return `warning: ${where}: d2l's preprocessing keeps only A–Z and drops ${
    (100 * share).toFixed(1)
  } % of the letters (${dropped.count} of ${dropped.of}: ${dropped.chars}); ` +
    `letters: "unicode" (--letters unicode) keeps them`;
}

/** d2l's `tokenize`: each line becomes a list of words or characters. */
export function tokenize(
  lines: string[],
  token: "char" | "word" = "char",
): string[][] {
  return lines.map((line) => token === "char" ? [...line] : line.split(" "));
}

/** Options of {@linkcode Vocab}, named as in d2l. */
export interface VocabOptions {
  /** Tokens seen fewer times than this map to `<unk>`. */
  min_freq?: number;
  /** Tokens placed right after `<unk>`, before the counted ones. */
  reserved_tokens?: string[];
}

/**
 * d2l's `Vocab`: index 0 is `<unk>`, then the reserved tokens, then tokens by
 * descending frequency; ties keep first-seen order (Python's sort is stable
 * over a `Counter`, which remembers insertion order).
 *
 * @example
 * ```ts
 * const vocab = new Vocab(tokenize(["abb"]));
 * vocab.idx_to_token; // ["<unk>", "b", "a"]
 * vocab.toIndex("z"); // 0
 * ```
 */
export class Vocab {
  /** Tokens in index order. */
  readonly idx_to_token: string[];
  /** Each token's frequency in the text the vocab was built from. */
  readonly token_freqs: [string, number][];
  readonly #index: Map<string, number>;

  /** Counts `tokens` (lines of tokens, or one list) and numbers them. */
  constructor(tokens: string[][] | string[], options: VocabOptions = {}) {
    const { min_freq = 0, reserved_tokens = [] } = options;
    const counter = new Map<string, number>();
    for (const t of tokens.flat()) counter.set(t, (counter.get(t) ?? 0) + 1);
    // Array.prototype.sort is stable, like Python's sorted.
    this.token_freqs = [...counter].sort((a, b) => b[1] - a[1]);
    this.idx_to_token = ["<unk>", ...reserved_tokens];
    this.#index = new Map(this.idx_to_token.map((t, i) => [t, i]));
    for (const [token, freq] of this.token_freqs) {
      if (freq < min_freq) break;
      if (!this.#index.has(token)) {
        this.#index.set(token, this.idx_to_token.length);
        this.idx_to_token.push(token);
      }
    }
  }

  /** Number of tokens, `<unk>` included (d2l's `len(vocab)`). */
  get length(): number {
    return this.idx_to_token.length;
  }

  /** Index of a token, 0 (`<unk>`) when unknown (d2l's `vocab[token]`). */
  toIndex(token: string): number {
    return this.#index.get(token) ?? 0;
  }

  /** Token of an index (d2l's `vocab.to_tokens`). */
  toToken(index: number): string {
    return this.idx_to_token[index] ?? "<unk>";
  }
}

/** The corpus as d2l's `load_corpus_time_machine` returns it, plus a held-out slice. */
export interface Corpus {
  /** Character vocabulary built from the whole text. */
  vocab: Vocab;
  /** Token indices of the training slice (the first `max_tokens`). */
  train: Int32Array;
  /** Token indices of the `val_tokens` characters right after the training slice. */
  val: Int32Array;
  /** Number of tokens in the whole text, before truncation. */
  corpus_length: number;
}

/**
 * Builds the character corpus: all cleaned lines' tokens concatenated (no
 * separator between lines, exactly as d2l), truncated to `max_tokens`
 * (≤ 0 keeps everything). The validation slice is what follows it.
 * `letters` says which letters the cleaning keeps ({@linkcode preprocessLines}).
 *
 * @example
 * ```ts
 * const { vocab, train, val } = loadCorpus("ab ba\nab", 4, 2);
 * train.length; // 4 ("ab b"), val.length: 2 ("aa")
 * ```
 */
export function loadCorpus(
  text: string,
  max_tokens = 10_000,
  val_tokens = 5_000,
  letters: Letters = "ascii",
): Corpus {
  const tokens = tokenize(preprocessLines(text, letters), "char").flat();
  const vocab = new Vocab(tokens);
  const all = Int32Array.from(tokens, (t) => vocab.toIndex(t));
  const end = max_tokens > 0 ? Math.min(max_tokens, all.length) : all.length;
  return {
    vocab,
    train: all.slice(0, end),
    val: all.slice(end, end + Math.max(0, val_tokens)),
    corpus_length: all.length,
  };
}

/** A run's corpus settings, as its config names them. */
export interface CorpusSettings {
  /** Training tokens, the corpus's first (0: all). */
  max_tokens: number;
  /** Held-out tokens after the training slice. */
  val_tokens: number;
  /** Which letters preprocessing keeps (default the book's, ascii). */
  letters?: Letters;
}

/**
 * {@linkcode loadCorpus} with a run's settings.
 *
 * @example
 * ```ts
 * corpusFor(text, resolveConfig({})).train.length; // 10000
 * ```
 */
export function corpusFor(text: string, settings: CorpusSettings): Corpus {
  return loadCorpus(
    text,
    settings.max_tokens,
    settings.val_tokens,
    settings.letters,
  );
}
