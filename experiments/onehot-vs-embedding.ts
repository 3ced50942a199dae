import { defineExperiment } from "../mod.ts";

/** Exercise 1: one-hot inputs against learned embeddings of several sizes. */
export default defineExperiment({
  name: "onehot-vs-embedding",
  description:
    "One-hot inputs (each token picks its own row of W_xh, i.e. a distinct embedding per token) " +
    "against a learnable embedding of 8, 28 (the vocabulary size) and 128 dimensions followed by W_xh.",
  exercises: [
    "1. Show that one-hot encoding is equivalent to picking a different embedding for each object.",
    "2c. Replace one-hot encoding with learnable embeddings: does this lead to better performance?",
  ],
  grid: { input: ["one_hot"] },
  include: [
    { input: "embedding", embed_size: 8 },
    { input: "embedding", embed_size: 28 },
    { input: "embedding", embed_size: 128 },
  ],
  seeds: [0, 1, 2],
  reading:
    "Exercise 1 holds to the last bit: a trained one-hot model run as an embedding model with " +
    "W_embed = I gives the same logits (largest |Δ logit| 0.0 over 200 characters, in the 2 cells " +
    "checked). Exercise 2c: a learned embedding " +
    "helps, more the wider it is: best validation perplexity 8.17 ± 0.28 (8 dimensions), " +
    "7.53 ± 0.01 (28) and 7.24 ± 0.07 (128) against 8.47 ± 0.09 one-hot, and 53.9–64.2 against " +
    "84.8 by epoch 500. All fit the training text alike (1.02–1.04), and with an embedding " +
    "0.2–0.8 % of the minibatches needed clipping against 34.1 %.",
});
