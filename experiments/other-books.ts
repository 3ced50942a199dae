import { defineExperiment } from "../mod.ts";

/** Exercise 2: the same model on another of H. G. Wells' books. */
export default defineExperiment({
  name: "other-books",
  description:
    "The chapter's model and settings on the first 10,000 characters of The Time Machine and of " +
    "The War of the Worlds (Project Gutenberg #36), judged on the held-out 5,000 characters after them.",
  exercises: [
    "2. Run the code in this section on other books: how well does it work?",
  ],
  grid: { corpus: ["timemachine", "war-of-the-worlds"] },
  seeds: [0, 1, 2],
  reading:
    "It works the same way on both books, and just as far: the model memorises the 10,000 " +
    "characters of The War of the Worlds too (train perplexity 1.04 ± 0.00, as for The Time " +
    "Machine), and predicts that book's next 5,000 characters a little worse: best validation " +
    "perplexity 9.41 ± 0.07 (epochs 100–110) against 8.47 ± 0.09 (epochs 90–130), climbing to " +
    "139 ± 10 against 85 ± 2 by epoch 500. Greedy continuations of the chapter's prefix " +
    "'time traveller', a phrase that book never uses, are not English ('th dest at earthan is " +
    "pps …').",
});
