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
});
