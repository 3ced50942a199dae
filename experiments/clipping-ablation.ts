import { defineExperiment } from "../mod.ts";

/** Exercises 4 and 6: is gradient clipping needed, with tanh and with ReLU? */
export default defineExperiment({
  name: "clipping-ablation",
  description:
    "Gradient clipping (θ = 1) against none, for tanh and ReLU hidden units, at the chapter's " +
    "learning rate and a larger one, where unclipped gradients blow up.",
  exercises: [
    "4. Replace the gradient clipping with no clipping: what happens?",
    "6. Replace tanh with ReLU and repeat the experiments: do we still need gradient clipping? Why?",
  ],
  grid: {
    clip: [1, "off"],
    activation: ["tanh", "relu"],
    lr: [1, 4],
  },
  seeds: [0],
});
