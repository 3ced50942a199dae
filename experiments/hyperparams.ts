import { defineExperiment } from "../mod.ts";

/**
 * Exercise 2b: one hyperparameter at a time around the chapter's values,
 * judged on validation perplexity (the epochs axis is each run's curve).
 */
export default defineExperiment({
  name: "hyperparams",
  description:
    "The chapter's model with one hyperparameter changed at a time — num_hiddens, num_steps, lr — " +
    "judged on the perplexity of the 5,000 held-out characters after the training text; the " +
    "validation curve every 10 epochs answers the number of epochs.",
  exercises: [
    "2. Adjust the hyperparameters (e.g., number of epochs, number of hidden units, number of " +
    "time steps in a minibatch, and learning rate) to improve the perplexity. How low can you go?",
  ],
  grid: { num_hiddens: [512] },
  include: [
    { num_hiddens: 128 },
    { num_hiddens: 256 },
    { num_hiddens: 1024 },
    { num_steps: 10 },
    { num_steps: 70 },
    { lr: 0.5 },
    { lr: 2 },
  ],
  seeds: [0, 1, 2],
  reading:
    "How low can you go: not far below the chapter, judged on the best validation perplexity " +
    "over the 500 epochs. Every change lands between 8.08 and 8.58, against 8.47 ± 0.08 for the " +
    "chapter's values. The one clear gain is a smaller model: 128 hidden units reach 8.08 ± 0.06 " +
    "(lowest cell 8.02), 256 reach 8.34 ± 0.01, and 1024 do worse, 8.58 ± 0.03. num_steps 10 " +
    "gives 8.35 ± 0.22 and 70 gives 8.48 ± 0.07; lr 0.5 gives 8.44 ± 0.06; lr 2 reaches " +
    "8.52 ± 0.12 by epoch 60–70 and then breaks down in all three seeds (training perplexity " +
    "31–84 at epoch 500, above the vocabulary's 28). The number of epochs matters more than any " +
    "of these: the validation minimum comes at epoch 90–130 for the chapter's model (60–80 with " +
    "1024 units, 30–60 with num_steps 10, 160–220 with 70, 170–180 at lr 0.5), and after it the " +
    "model memorises the 10,000 training characters: training perplexity 1.04 and validation " +
    "78.15 ± 0.60 at epoch 500 (1024 units: 1.04 and 97.94 ± 0.78), while 128 units, too few to " +
    "memorise, end at 1.91 and 24.65 ± 0.72. A training perplexity near 1 is no improvement; " +
    "stopping near epoch 100, or a smaller model, is. tokens/s compare only within one adapter " +
    "and load: the H200 cells ran eight or more at a time (256 units: 18,575 tokens/s in a busier " +
    "run, 34,472–34,564 in a lighter one).",
});
