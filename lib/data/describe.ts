/**
 * What a run records about its corpus: where the text came from and what the
 * pipeline made of it.
 *
 * @module
 */
import type { CorpusText } from "./source.ts";
import {
  type Corpus,
  type DroppedLetters,
  droppedLetters,
  type Letters,
} from "./vocab.ts";

/** A corpus as recorded with every run. */
export interface CorpusRecord {
  /** The name asked for (`timemachine`, `war-of-the-worlds` or a path). */
  name: string;
  /** File path or URL read. */
  source: string;
  /** SHA-1 of the file's bytes. */
  sha1: string;
  /** Tokens in the whole text, before truncation. */
  corpus_length: number;
  /** Tokens of the training slice. */
  train_tokens: number;
  /** Tokens of the held-out slice. */
  val_tokens: number;
  /** Tokens in index order. */
  vocab: string[];
  /**
   * Letters of the text the run's preprocessing dropped (none with
   * `letters: "unicode"`); absent in cells stored before it was recorded.
   */
  dropped_letters?: DroppedLetters;
}

/**
 * Describes a read and tokenised corpus.
 *
 * @example
 * ```ts
 * const text = await readCorpus("timemachine");
 * describeCorpus(text, loadCorpus(text.text)).corpus_length; // 170580
 * ```
 */
export function describeCorpus(
  text: CorpusText,
  corpus: Corpus,
  letters: Letters = "ascii",
): CorpusRecord {
  const dropped = droppedLetters(text.text);
  return {
    name: text.name,
    source: text.source,
    sha1: text.sha1,
    corpus_length: corpus.corpus_length,
    train_tokens: corpus.train.length,
    val_tokens: corpus.val.length,
    vocab: corpus.vocab.idx_to_token,
    dropped_letters: letters === "ascii"
      ? dropped
      : { ...dropped, count: 0, chars: "" },
  };
}
