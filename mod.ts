/**
 * rnnlab: the character-level RNN from scratch of *Dive into Deep Learning*
 * (section "Implementation of RNNs from Scratch") on tfjs in Deno, with the
 * chapter's names, so each idea is where a reader of the book expects it.
 *
 * Data flows one way: config and data → model → engine (fused, blas,
 * reference) → train → experiment → report.
 *
 * @example
 * ```ts
 * import { loadCorpus, readCorpus, resolveConfig, train_ch8 } from "./mod.ts";
 *
 * const config = resolveConfig({ num_epochs: 20, num_hiddens: 64 });
 * const { text } = await readCorpus(config.corpus, { dataDir: "../shared/data" });
 * const result = await train_ch8(config, loadCorpus(text, config.max_tokens, config.val_tokens));
 * console.log(result.final.train_ppl, result.samples[0].text);
 * ```
 *
 * @module
 */
export { makeRng, type Rng } from "./lib/data/prng.ts";
export {
  type Corpus,
  corpusFor,
  type CorpusSettings,
  type DroppedLetters,
  droppedLetters,
  type Letters,
  loadCorpus,
  preprocessLines,
  tokenize,
  Vocab,
  type VocabOptions,
} from "./lib/data/vocab.ts";
export {
  dataIter,
  type Minibatch,
  type Sampling,
  seqDataIterRandom,
  seqDataIterSequential,
} from "./lib/data/iterators.ts";
export {
  type CorpusText,
  decodeCorpus,
  KNOWN_CORPORA,
  type KnownCorpus,
  readCorpus,
  sha1Hex,
  type SourceOptions,
  sourceOptionsFromEnv,
  stripGutenberg,
} from "./lib/data/source.ts";
export {
  type BackendInfo,
  type BackendName,
  BACKENDS,
  setBackend,
} from "./lib/engine/backend.ts";
export {
  type Activation,
  cross_entropy,
  get_params,
  type InputMode,
  matmul,
  one_hot,
  type ParamValues,
  RNNModelScratch,
  type RnnSpec,
} from "./lib/model/rnn.ts";
export {
  type Decoding,
  generate,
  type Generation,
  type Model,
  oneHotAsEmbedding,
  predict,
  sampleIndex,
  type TokenMap,
} from "./lib/model/predict.ts";
export {
  BLAS_VERSION,
  BlasCells,
  BlasRnn,
  type Cblas,
  type CellEpoch,
  type CellEval,
  defaultBatch,
  type EngineGroup,
  type EpochOptions,
  type EpochStats,
  FUSED_VERSION,
  FusedCells,
  type FusedSpec,
  type Gradients,
  type GroupCell,
  groupKey,
  type GroupSpec,
  groupSpec,
  type KernelTimes,
  MAX_GROUP,
  openCblas,
  openGroup,
  type PickedEngine,
  pickEngine,
  type Recurrence,
  ROWS_MAX,
  tilesFor,
} from "./lib/engine/mod.ts";
export {
  evaluate,
  grad_clipping,
  ReferenceCells,
  train_epoch,
} from "./lib/engine/reference.ts";
export {
  CONFIG,
  type Config,
  CONFIG_KEYS,
  type ConfigOf,
  configOf,
  configValue,
  type Engine,
  type EngineChoice,
  ENGINES,
  KEYS,
  type Keys,
  resolveConfig,
  type TrainConfig,
} from "./lib/config/config.ts";
export type { Key, Schema, ValueOf } from "./lib/config/key.ts";
export {
  type CellRun,
  Ch8Run,
  type Checkpoints,
  ENGINE_VERSION,
  engineVersion,
  type EpochLog,
  type EpochResult,
  PREFIXES,
  type RunCorpus,
  type RunState,
  type Sample,
  train_cells,
  train_ch8,
  trainGroup,
  type TrainHooks,
  type TrainResult,
} from "./lib/train/train.ts";
export { collectEnv, computedOn, type RunEnv } from "./lib/env.ts";
export { IoError, UserError } from "./lib/errors.ts";
export { type CorpusRecord, describeCorpus } from "./lib/data/describe.ts";
export {
  type ConfigValue,
  defineExperiment,
  type Dimension,
  type ExperimentSpec,
  HARD_MAX_CELLS,
  MAX_CELLS,
  type ReportOptions,
  SEARCH_METRICS,
  type SearchSpec,
  validateExperiment,
} from "./lib/experiment/spec.ts";
export {
  decisionsText,
  type Member,
  type Rung,
  sampleSpace,
  type SearchOptions,
  searchRecords,
  type SearchState,
  searchState,
} from "./lib/experiment/search.ts";
export {
  type Cell,
  cellId,
  countCells,
  expandConfigs,
  expandGrid,
  type ExpandOptions,
  filterCells,
  type GridConfig,
  makeCells,
  type Overrides,
  shardCells,
  varyingKeys,
} from "./lib/experiment/grid.ts";
export {
  CELL_SCHEMA,
  type CellJob,
  type CellRecord,
} from "./lib/experiment/cell.ts";
export { type CellEvents, trainJob } from "./lib/experiment/job.ts";
export {
  readCellFile,
  readCells,
  type Rejected,
  scanCells,
  type Stored,
} from "./lib/experiment/store.ts";
export {
  type Stat,
  stat,
  summarize,
  type SummaryRow,
} from "./lib/report/aggregate.ts";
export {
  buildResults,
  type ReadResults,
  readResults,
  renderMarkdown,
  type Results,
  RESULTS_SCHEMA,
  type SearchReport,
  writeReport,
} from "./lib/report/report.ts";
export {
  perplexitySpec,
  perplexitySvg,
  renderSvg,
  type Run,
  runOf,
} from "./lib/report/plot.ts";
export {
  type Displayable,
  figure,
  grouped,
  LiveFigure,
  type MediaBundle,
  table,
} from "./lib/notebook/display.ts";
export {
  compareCells,
  type Comparison,
  type Delta,
  type Leaf,
  quantities,
} from "./lib/experiment/compare.ts";
export type {
  Scalar,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Variable,
} from "./lib/model/tensors.ts";
