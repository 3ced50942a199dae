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
});
