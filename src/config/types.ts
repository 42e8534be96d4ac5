// The resolved experiment config: what every component receives (each takes only its slice).
// src/config/schema.ts validates raw YAML into exactly these types, filling the documented defaults.

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type NormalizeKind = 'standardize' | 'scale01' | 'none';
export type Activation = 'relu' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'linear' | 'gelu' | 'swish';
export type TrainerMode = 'pretrain' | 'finetune' | 'multitask';
export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';
export type ScheduleName = 'constant' | 'step' | 'cosine';
/** `val.loss` is minimised, `val.accuracy` / `val.macroF1` maximised. */
export type MonitorName = 'val.loss' | 'val.accuracy' | 'val.macroF1';

export interface DataConfig {
  /** `mnist`, `fashion`, `idx:<dir>`, or a class subset such as `mnist:0-4` (default `mnist`). */
  dataset: string;
  /** Input normalization fitted on the training split (default `standardize`). */
  normalize: NormalizeKind;
  /** Fraction of the training split held out for validation, 0 ≤ v < 1 (default 0.1). */
  validation: number;
  /** Train on a seeded sample of this many training examples; null = all (default null). */
  limit: number | null;
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

export interface Config {
  /** Run name, used in the run id (default: the config file's base name). */
  name: string;
  /** Seed of every random choice the runner makes (default 42). */
  seed: number;
  backend: BackendName;
  data: DataConfig;
  model: ModelConfig;
  trainer: TrainerConfig;
}

export type ResolvedConfig = Readonly<Config>;
