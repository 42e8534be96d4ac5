// The resolved experiment config: what every component receives (each takes only its slice).
// src/config/schema.ts validates raw YAML into exactly these types, filling the documented defaults.

import type {
  Activation,
  BackendName,
  FinetuneStrategy,
  ImageChannels,
  LossNormalization,
  MissingPolicy,
  MonitorName,
  MultitaskArchitecture,
  NormalizeKind,
  OptimizerName,
  ScheduleName,
  TaskMetricName,
  TrainerMode,
  WeightingName,
} from './names.ts';

export type * from './names.ts';

export interface ImageConfig {
  /** [height, width] every image is resized to; null = the size of the first image (default null). */
  size: [number, number] | null;
  /** 1 (grayscale) or 3 (RGB); null = the first image's (default null). */
  channels: ImageChannels | null;
}

export interface DataConfig {
  /**
   * `mnist`, `fashion`, `idx:<dir>`, `images:<dir>`, `csv:<file>`, or a class subset such as `mnist:0-4` (default
   * `mnist`).
   */
  dataset: string;
  /** Input normalization fitted on the training split (default `standardize`). */
  normalize: NormalizeKind;
  /** Fraction of the training split held out for validation, 0 ≤ v < 1 (default 0.1). */
  validation: number;
  /** Train on a seeded sample of this many training examples; null = all (default null). */
  limit: number | null;
  /**
   * `images:` / `csv:` without their own test set: the fraction held out as the test split (stratified, fixed
   * seed), or a test CSV file / image folder (default 0.2).
   */
  test: number | string;
  /** `images:`: the size and channels every image is decoded to. */
  image: ImageConfig;
  /** `csv:`: the label column of a single-task run (default `label`). */
  label: string;
  /** `csv:`: feature columns, or `auto` = every column that is neither a label nor ignored (default `auto`). */
  features: 'auto' | string[];
  /** `csv:`: numeric columns that are categories, one-hot encoded (default []). */
  categorical: string[];
  /** `csv:`: columns that are neither features nor labels, such as ids (default []). */
  ignore: string[];
  /** `csv:`: a missing feature value is an `error`, or `mean`: filled with the training mean (default `error`). */
  missing: MissingPolicy;
  /** `csv:`: the field delimiter, one character (default `,`). */
  delimiter: string;
}

export interface MlpConfig {
  type: 'mlp';
  /** Hidden layer widths (default [128], the seed's 784-128-10). */
  hidden: number[];
  activation: Activation;
  /** Dropout after each hidden layer, 0 ≤ p < 1 (default 0). */
  dropout: number;
}

export interface ConvBlockConfig {
  filters: number;
  /** Square kernel size (default 3). */
  kernel: number;
  /** Default 1. */
  stride: number;
  /** Default `valid` (as Keras and PyTorch's padding=0). */
  padding: 'valid' | 'same';
  /** Default `relu`. */
  activation: Activation;
  /** BatchNormalization after the convolution, before the activation (default false). */
  batchNorm: boolean;
  /** Max-pool size after the block; 0 = no pooling (default 2). */
  pool: number;
}

export interface CnnConfig {
  type: 'cnn';
  conv: ConvBlockConfig[];
  /** Dense layers after flattening (default [128]). */
  dense: number[];
  /** Activation of the dense layers (default `relu`). */
  activation: Activation;
  /** Dropout after each dense layer (default 0). */
  dropout: number;
}

export type ModelConfig = MlpConfig | CnnConfig;

export interface OptimizerConfig {
  name: OptimizerName;
  /** Base learning rate (default 0.001). */
  lr: number;
  /** SGD momentum / RMSprop momentum (default 0). */
  momentum: number;
  /** Adam β1 (default 0.9). */
  beta1: number;
  /** Adam β2 (default 0.999). */
  beta2: number;
  /** Adam / RMSprop ε (default 1e-7, Keras's default). */
  epsilon: number;
  /** RMSprop decay ρ (default 0.9). */
  rho: number;
}

export interface ScheduleConfig {
  name: ScheduleName;
  /** Linear warmup from 0 over this many epochs (fractions allowed; default 0). */
  warmupEpochs: number;
  /** `step`: multiply by `gamma` every `stepEpochs` epochs (default 3). */
  stepEpochs: number;
  /** `step`: decay factor (default 0.1). */
  gamma: number;
  /** `cosine`: final learning rate (default 0). */
  minLr: number;
}

export interface RegularizationConfig {
  /** λ for the L1 penalty on kernel weights (default 0). */
  l1: number;
  /** λ for the L2 penalty on kernel weights (default 0). */
  l2: number;
}

export interface EarlyStoppingConfig {
  /** Epochs without improvement of `trainer.monitor` before stopping; null = off (default null). */
  patience: number | null;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta: number;
}

export interface TrainerConfig {
  mode: TrainerMode;
  /** Default 10. */
  epochs: number;
  /** Default 128. */
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  regularization: RegularizationConfig;
  /** Validation metric that selects the best checkpoint and drives early stopping (default `val.accuracy`). */
  monitor: MonitorName;
  earlyStopping: EarlyStoppingConfig;
}

export interface TaskMetricConfig {
  name: TaskMetricName;
  /** Which way is better (default `higher`; `loss` must say `lower`). */
  direction: 'higher' | 'lower';
}

export interface TaskHeadConfig {
  /** Hidden dense widths before the output layer (default [50]: MultiLeNet's head 50→50→classes). */
  hidden: number[];
  /** Output classes; null = the number of classes of the task's labels (default null). */
  classes: number | null;
}

export interface TaskConfig {
  /** Task name, used in layer names (`head_<name>`) and records: letters, digits, underscores. */
  name: string;
  /**
   * `label` (the dataset's), `left` / `right` (multi-digit sets), derived `parity` / `left.parity`, or a CSV label
   * column (default `label`).
   */
  labels: string;
  /** Multi-input: this task's own dataset; null = `data.dataset` (default null). */
  dataset: string | null;
  head: TaskHeadConfig;
  /** Default `crossEntropy`. */
  loss: 'crossEntropy';
  /** Metrics compared against baselines in Δm (default accuracy, higher is better). */
  metrics: TaskMetricConfig[];
  /** The task's weight under `multitask.weighting: static` (default 1). */
  weight: number;
}

export interface DistillConfig {
  /** Single-task teacher runs (ids, prefixes or paths); [] = no distillation (default []). */
  from: string[];
  /** Softmax temperature of the soft targets (default 2). */
  temperature: number;
  /** Weight of the distillation term against the hard-label loss, 0–1 (default 0.5). */
  alpha: number;
}

export interface MultitaskConfig {
  /** `hard` shared trunk, `cross-stitch` columns, or `mmoe` experts with task gates (default `hard`). */
  architecture: MultitaskArchitecture;
  /** How task losses / gradients are combined (default `equal`). */
  weighting: WeightingName;
  /** Rescale task losses before weighting (default `none`). */
  normalizeLosses: LossNormalization;
  /** DWA temperature T (default 2, Liu et al. 2019). */
  dwaTemperature: number;
  /** GradNorm asymmetry α (default 1.5, Chen et al. 2018). */
  gradnormAlpha: number;
  /** CAGrad c (default 0.4, Liu et al. 2021). */
  cagradC: number;
  /** MMoE: number of experts (default 3). */
  experts: number;
  distill: DistillConfig;
}

export interface Config {
  /** Run name, used in the run id (default: the config file's base name). */
  name: string;
  /** Seed of every random choice the runner makes (default 42). */
  seed: number;
  backend: BackendName;
  data: DataConfig;
  model: ModelConfig;
  trainer: TrainerConfig;
  /** The tasks of `trainer.mode: multitask` (default []). */
  tasks: TaskConfig[];
  multitask: MultitaskConfig;
  /** Where the weights start (trainer.mode: finetune). */
  init: InitConfig;
  /** How a fine-tune trains the loaded weights. */
  finetune: FinetuneConfig;
}

export interface InitConfig {
  /**
   * nanoGPT's init_from: null = scratch; a run id / prefix / run folder (its best checkpoint) or a checkpoint folder
   * (default null).
   */
  from: string | null;
  /** Keep the source's output layer instead of a new head; needs the same number of classes (default false). */
  keepHead: boolean;
}

export interface FinetuneConfig {
  /** Default `full`. */
  strategy: FinetuneStrategy;
  /**
   * `lp-ft`: probe epochs before unfreezing; null = until the monitor stops improving, at most half the epochs
   * (default null).
   */
  lpEpochs: number | null;
  /** `lp-ft`: learning-rate multiplier after unfreezing, 0 < v ≤ 1 (default 0.1). */
  ftLrScale: number;
  /** `gradual`: epochs between unfreezing one more block, from the top (default 1, ULMFiT). */
  unfreezeEvery: number;
  /** `gradual`: a block's LR is the LR of the block above it / lrDecay (default 2.6, ULMFiT). */
  lrDecay: number;
}

export type ResolvedConfig = Readonly<Config>;
