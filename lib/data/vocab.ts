/**
 * d2l's text preprocessing (`read_time_machine`, `tokenize`, `Vocab`,
 * `load_corpus_time_machine`), as pure functions over a string.
 *
 * @module
 */

/**
 * Splits a text into lines and cleans each as d2l's `read_time_machine` does:
 * every run of non-letters becomes one space, then trim and lowercase.
 *
 * @example
 * ```ts
 * preprocessLines("The Time-Machine,\r\nby H. G. Wells"); // ["the time machine", "by h g wells"]
 * ```
 */
export function preprocessLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map((line) =>
    line.replace(/[^A-Za-z]+/g, " ").trim().toLowerCase()
  );
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
): Corpus {
  const tokens = tokenize(preprocessLines(text), "char").flat();
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
