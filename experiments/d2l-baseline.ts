import { defineExperiment } from "../mod.ts";

/** The chapter's own two runs: sequential partitioning, then random sampling. */
export default defineExperiment({
  name: "d2l-baseline",
  description:
    "The chapter's two training runs with its exact settings (512 hidden units, 35 steps, batch 32, " +
    "lr 1, clipping θ = 1, 500 epochs on the first 10,000 characters of The Time Machine): " +
    "sequential partitioning, then random sampling. The book reports training perplexity ≈ 1.0 and ≈ 1.5.",
  exercises: [
    "sec_rnn_scratch: train_ch8(net, train_iter, vocab, lr, num_epochs, d2l.try_gpu()) and " +
    "the closing run with use_random_iter=True",
  ],
  grid: { sampling: ["sequential", "random"] },
  seeds: [0, 1, 2],
});
