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
  reading:
    "How low can you go, searched: best validation perplexity 6.23 ± 0.04 (#63: 512 hidden units, " +
    "num_steps 16, batch_size 8, lr 2.89, θ 0.161, ReLU, a 64-wide embedding), 1.85 below the " +
    "hyperparams grid's 8.08 ± 0.06 (23% lower) on the same 5,000 held-out characters. What wins is " +
    "what learns fast from 10,000 characters: of the 9 configurations that reached rung 3, 8 learn " +
    "an embedding, 8 minibatches of 8 or 16 and 7 ReLU. The winner is at its best at its " +
    "first evaluation, epoch 10, in all three seeds, and then memorises the training text " +
    "(validation 266.36 ± 18.64 at epoch 300), so its later rungs only confirmed its 10-epoch value; " +
    "#31 (192 tanh units, lr 0.365) comes within 0.02 at epoch 40. Ranked on best validation " +
    "perplexity, successive halving favours early bests. 122 cells, 3,180 epochs: 13 minutes on " +
    "the 2-core machine with the blas engine, two cells at a time.",
});
