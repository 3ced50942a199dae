import { defineExperiment } from "../mod.ts";

/** Exercise 3: sampling instead of greedy decoding, sharpened by α. */
export default defineExperiment({
  name: "decoding",
  description:
    "The chapter's model, trained for 500 epochs (as in the chapter) and for 100 (near its best " +
    "validation perplexity), decoded greedily and by sampling from the predicted distribution " +
    "raised to the power α (α = 1 plain sampling, α > 1 sharper), for both prefixes.",
  exercises: [
    "3. Modify the prediction function such as to use sampling rather than picking the most likely " +
    "next character. What happens? Bias the model towards more likely outputs, e.g., by sampling " +
    "from q(x_t | x_{t-1}, ..., x_1) ∝ P(x_t | x_{t-1}, ..., x_1)^α for α > 1.",
  ],
  // Longer continuations than the chapter's 50 characters, for the measures.
  base: { num_preds: 200 },
  // After 500 epochs the model has memorised its text (training perplexity
  // ≈ 1); after 100 it is near its best validation perplexity.
  grid: { num_epochs: [500, 100] },
  seeds: [0, 1, 2],
  report: { alphas: [1, 2, 4] },
});
