import { defineExperiment } from "../mod.ts";

/** Exercise 3: sampling instead of greedy decoding, sharpened by α. */
export default defineExperiment({
  name: "decoding",
  description:
    "The chapter's trained model decoded greedily and by sampling from the predicted distribution " +
    "raised to the power α (α = 1 plain sampling, α > 1 sharper), for both prefixes.",
  exercises: [
    "3. Modify the prediction function such as to use sampling rather than picking the most likely " +
    "next character. What happens? Bias the model towards more likely outputs, e.g., by sampling " +
    "from q(x_t | x_{t-1}, ..., x_1) ∝ P(x_t | x_{t-1}, ..., x_1)^α for α > 1.",
  ],
  // Longer continuations than the chapter's 50 characters, for the measures.
  base: { num_preds: 200 },
  grid: { num_hiddens: [512] },
  seeds: [0, 1, 2],
  report: { alphas: [1, 2, 4] },
});
