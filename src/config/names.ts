// Every closed set of names in an experiment config, as const arrays, each followed by the union
// type derived from it: the schema validates against the arrays, types.ts re-exports the unions,
// and the registries (model types, weighting methods, transfer strategies) are checked against them
// at compile time. A name is written once, here.

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const NORMALIZE_KINDS = ['standardize', 'scale01', 'none'] as const;
export type NormalizeKind = (typeof NORMALIZE_KINDS)[number];

/** `data.missing`: a missing feature value of a table is an `error`, or filled with the training mean. */
export const MISSING_POLICIES = ['error', 'mean'] as const;
export type MissingPolicy = (typeof MISSING_POLICIES)[number];

/** `data.image.channels`: grayscale or RGB. */
export const IMAGE_CHANNELS = [1, 3] as const;
export type ImageChannels = (typeof IMAGE_CHANNELS)[number];

export const ACTIVATIONS = ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'linear', 'gelu', 'swish'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const TRAINER_MODES = ['pretrain', 'finetune', 'multitask'] as const;
export type TrainerMode = (typeof TRAINER_MODES)[number];

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/** `val.loss` is minimised, `val.accuracy` / `val.macroF1` maximised. */
export const MONITORS = ['val.loss', 'val.accuracy', 'val.macroF1'] as const;
export type MonitorName = (typeof MONITORS)[number];

/** Model types of `model.type`; src/models/registry.ts has one definition per name. */
export const MODEL_TYPES = ['mlp', 'cnn'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export const PADDINGS = ['valid', 'same'] as const;

export const ARCHITECTURES = ['hard', 'cross-stitch', 'mmoe'] as const;
export type MultitaskArchitecture = (typeof ARCHITECTURES)[number];

/** Weighting methods; src/train/multitask/weighting/index.ts has one factory per name. */
export const WEIGHTINGS = [
  'equal',
  'static',
  'uncertainty',
  'dwa',
  'rlw',
  'gradnorm',
  'pcgrad',
  'mgda',
  'cagrad',
] as const;
export type WeightingName = (typeof WEIGHTINGS)[number];

/** How task losses are rescaled before weighting: by their first-step value, or by taking the log. */
export const LOSS_NORMALIZATIONS = ['none', 'initial', 'log'] as const;
export type LossNormalization = (typeof LOSS_NORMALIZATIONS)[number];

export const TASK_METRICS = ['accuracy', 'macroF1', 'aucRoc', 'loss'] as const;
export type TaskMetricName = (typeof TASK_METRICS)[number];

export const METRIC_DIRECTIONS = ['higher', 'lower'] as const;

/**
 * Transfer strategies (src/train/transfer/strategies/ describes each: what trains, phases, help
 * line): `full`, `linear-probe`, `lp-ft` (Kumar et al. 2022), `gradual` (ULMFiT), `freeze-conv`
 * (Keras's mnist_transfer_cnn), `reinit` (the from-scratch baseline), `zero-shot` (evaluated as is).
 */
export const STRATEGIES = ['full', 'linear-probe', 'lp-ft', 'gradual', 'freeze-conv', 'reinit', 'zero-shot'] as const;
export type FinetuneStrategy = (typeof STRATEGIES)[number];
