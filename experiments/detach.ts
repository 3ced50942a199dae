import { defineExperiment } from "../mod.ts";

/** Exercise 5: sequential partitioning without detaching the state. */
export default defineExperiment({
  name: "detach",
  description:
    "Sequential partitioning with the hidden state detached between minibatches (the chapter) " +
    "against not detaching it, so every minibatch backpropagates to the start of the epoch: " +
    "running time and perplexity.",
  exercises: [
    "5. Replace sequential partitioning by not separating hidden states from the computational " +
    "graph: does the running time change? How about the perplexity?",
  ],
  grid: { detach: [true, false] },
  seeds: [0, 1, 2],
  // Running time is the question: both sides train here, side by side, rather
  // than copy the chapter's cells timed on another day.
  reuse: false,
  reading:
    "Not detaching makes each of an epoch's 8 minibatches backpropagate to the start of the " +
    "epoch (minibatch i runs forward and backward through i + 1 minibatches: 36 passes per " +
    "epoch instead of 8), and it costs time, not perplexity: 1,333 tokens/s against " +
    "6,724–8,694 detached (5.0–6.5× slower; one cell at a time on the same 2-core llvmpipe " +
    "machine), while training perplexity ends at 1.04 either way and the best validation " +
    "perplexity is 8.56 against 8.47 ± 0.09. So far one seed without detaching.",
});
