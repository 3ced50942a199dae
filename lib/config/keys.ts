/**
 * Every config key of a run, declared once: d2l's hyperparameter names,
 * the chapter's defaults, ranges, units and help. The config schema and
 * type, `deno task train`'s flags, the grids' checks, the tables and the
 * web page all read this table; adding a key is adding an entry.
 *
 * The order is the config's: tables and error messages list keys in it.
 *
 * @module
 */
import { bool, choice, int, positive, positiveOr, text } from "./key.ts";

/** The training engines. */
export const ENGINES = ["fused", "blas", "reference"] as const;

/** The tfjs backends the reference engine runs on (and the one beside each engine). */
export const BACKENDS = ["webgpu", "wasm", "cpu"] as const;

/** The config keys, in order. */
export const KEYS = {
  num_hiddens: int({
    default: 512,
    min: 1,
    unit: "units",
    help: "hidden units H",
  }),
  num_steps: int({
    default: 35,
    min: 1,
    unit: "steps",
    help: "time steps T per subsequence (the truncated BPTT length)",
  }),
  batch_size: int({
    default: 32,
    min: 1,
    unit: "rows",
    help: "subsequences per minibatch",
  }),
  lr: positive({ default: 1, help: "SGD learning rate" }),
  num_epochs: int({ default: 500, min: 1, unit: "epochs", help: "epochs" }),
  max_tokens: int({
    default: 10_000,
    min: 0,
    unit: "tokens",
    help: "training tokens, the corpus's first; 0 keeps all",
  }),
  val_tokens: int({
    default: 5_000,
    min: 0,
    unit: "tokens",
    help: "held-out tokens after the training slice, for validation perplexity",
  }),
  clip: positiveOr("off", {
    default: 1,
    help: "gradient clipping threshold θ on the global norm, or off",
  }),
  activation: choice(["tanh", "relu"], {
    default: "tanh",
    help: "the hidden layer's nonlinearity",
  }),
  sampling: choice(["sequential", "random"], {
    default: "sequential",
    help: "sequential partitioning or random sampling of minibatches",
  }),
  detach: bool({
    default: true,
    help:
      "detach the state between minibatches (false needs sequential sampling)",
  }),
  input: choice(["one_hot", "embedding"], {
    default: "one_hot",
    help: "one-hot inputs (the chapter's) or a learnt embedding",
  }),
  embed_size: int({
    default: 32,
    min: 1,
    unit: "units",
    help: "embedding width for input embedding",
  }),
  corpus: text({
    default: "timemachine",
    help: "timemachine, war-of-the-worlds, or a path to a UTF-8 text file",
  }),
  letters: choice(["ascii", "unicode"], {
    default: "ascii",
    omitDefault: true,
    help: "letters the preprocessing keeps: A–Z as the book, or any script's",
  }),
  seed: int({
    default: 0,
    min: 0,
    max: 2 ** 32 - 1,
    help:
      "seed of every random choice: initialisation, minibatch order, sampling",
  }),
  backend: choice(BACKENDS, {
    help:
      "the tfjs backend of the reference engine (default: the engine's, webgpu, or cpu for blas)",
  }),
  engine: choice(ENGINES, {
    help:
      "fused (WGSL kernels, webgpu only), blas (the system's CBLAS, CPU) or reference (tfjs autograd); default: this machine's fastest",
  }),
  eval_every: int({
    default: 10,
    min: 1,
    unit: "epochs",
    help: "validation perplexity every this many epochs, and after the last",
  }),
  num_preds: int({
    default: 50,
    min: 0,
    unit: "characters",
    help: "characters generated after each prefix",
  }),
};
