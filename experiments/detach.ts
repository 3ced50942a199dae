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
    "epoch instead of 8). It costs time: 1,325–1,557 tokens/s against 6,724–8,694 detached " +
    "(4.3–6.6× slower, one cell at a time on the same 2-core llvmpipe machine; undetached, " +
    "the first 50 epochs ran slowest in every seed, at a median 627–675 tokens/s, then " +
    "1,468–1,966). It buys no perplexity: training perplexity ends at 1.03–1.04 either way, " +
    "the best validation perplexity is 8.53 ± 0.05 against 8.47 ± 0.09, and by epoch 500 the " +
    "validation perplexity is higher, 92.94 ± 1.83 against 84.80 ± 1.52.",
});
