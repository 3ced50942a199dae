import { defineExperiment } from "../mod.ts";

/**
 * Exercise 2, searched rather than enumerated: successive halving over the
 * chapter's own keys, judged on the same 5,000 held-out characters as the
 * hyperparams grid.
 */
export default defineExperiment({
  name: "search",
  description:
    "How low can you go? 81 configurations of the chapter's model drawn over num_hiddens, " +
    "num_steps, batch_size, lr, clip θ, activation and one-hot or embedding inputs, trained by " +
    "successive halving (10, 30, 100, 300 epochs, the best third going on each time, from where " +
    "it stopped) on the chapter's 10,000 training characters; the winner trained again with " +
    "three seeds, judged on the best validation perplexity of the 5,000 held-out characters.",
  exercises: [
    "2. Adjust the hyperparameters (e.g., number of epochs, number of hidden units, number of " +
    "time steps in a minibatch, and learning rate) to improve the perplexity. How low can you go?",
  ],
  base: { num_epochs: 300 }, // the winner's budget; the last rung
  search: {
    space: {
      num_hiddens: { choices: [64, 128, 192, 256, 384, 512] },
      num_steps: { int: [10, 70] },
      batch_size: { choices: [8, 16, 32, 64] },
      lr: { log_uniform: [0.25, 8] },
      clip: { log_uniform: [0.1, 10] },
      activation: { choices: ["tanh", "relu"] },
      input: {
        choices: [
          { input: "one_hot" },
          { input: "embedding", embed_size: 16 },
          { input: "embedding", embed_size: 32 },
          { input: "embedding", embed_size: 64 },
        ],
      },
    },
    configurations: 81,
    rungs: [10, 30, 100, 300],
    eta: 3,
  },
  seeds: [0, 1, 2],
});
