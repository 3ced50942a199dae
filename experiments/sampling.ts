import { defineExperiment } from "../mod.ts";

/** The chapter's closing comparison, and whether it depends on num_steps. */
export default defineExperiment({
  name: "sampling",
  description:
    "Sequential partitioning (the hidden state carries over between minibatches) against random " +
    "sampling (a fresh state for every subsequence), at the chapter's 35 steps and at 10 steps, " +
    "where random sampling sees only 10 characters of context.",
  exercises: [
    "sec_rnn_scratch, closing run: train_ch8(..., use_random_iter=True) against the sequential run",
  ],
  grid: { sampling: ["sequential", "random"], num_steps: [35, 10] },
  seeds: [0, 1, 2],
});
