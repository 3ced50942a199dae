import { defineExperiment } from "../mod.ts";

/** Exercise 5: sequential partitioning without detaching the state. */
export default defineExperiment({
  name: "detach",
  description:
    "Sequential partitioning with the hidden state detached between minibatches (the chapter) " +
    "against not detaching it, so every minibatch backpropagates to the start of the epoch: " +
    "running time and perplexity.",
  exercises: [
    "5. Replace sequential partitioning by not separating hidden states from the computational " +
    "graph: does the running time change? How about the perplexity?",
  ],
  grid: { detach: [true, false] },
  seeds: [0, 1, 2],
  // Running time is the question: both sides train here, side by side, rather
  // than copy the chapter's cells timed on another day.
  reuse: false,
});
