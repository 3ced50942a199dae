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
});
