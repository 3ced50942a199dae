/**
 * Where tests find the real corpora: `RNNLAB_DATA_DIR`, else `../shared/data`
 * beside the checkout. Tests that need a book are skipped only when neither
 * is set up; CI sets `RNNLAB_DATA_DIR`, so there they always run.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

export const TEST_DATA_DIR = Deno.env.get("RNNLAB_DATA_DIR") ??
  fileURLToPath(new URL("../../../shared/data", import.meta.url));

/** Whether the Time Machine text is available to tests. */
export const HAVE_TIME_MACHINE = (() => {
  try {
    return Deno.statSync(`${TEST_DATA_DIR}/timemachine.txt`).isFile;
  } catch {
    if (Deno.env.get("RNNLAB_DATA_DIR")) {
      throw new Error(
        `RNNLAB_DATA_DIR=${TEST_DATA_DIR} has no timemachine.txt`,
      );
    }
    return false;
  }
})();

/** The book's first paragraph, for tests that need a little text of their own. */
export const PASSAGE =
  `The Time Traveller (for so it will be convenient to speak of him)
was expounding a recondite matter to us. His grey eyes shone and
twinkled, and his usually pale face was flushed and animated. The
fire burned brightly, and the soft radiance of the incandescent
lights in the lilies of silver caught the bubbles that flashed and
passed in our glasses.`;
