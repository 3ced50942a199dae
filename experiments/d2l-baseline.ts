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
  reading:
    "Both runs land where the book does: training perplexity 1.04 ± 0.00 with " +
    "sequential partitioning and 1.54 ± 0.03 with random sampling (3 seeds), and every greedy " +
    "continuation of 'time traveller' is a passage of the training text, up to a dropped space " +
    "(two sequential seeds: 'you can show black is white by argument said filby'). They are " +
    "memorised: validation perplexity on the next 5,000 characters is lowest (8.5 ± 0.1 " +
    "sequential, 8.1 ± 0.1 random) after 90–160 epochs and then climbs to 84.8 and 21.6 by " +
    "epoch 500.",
});
