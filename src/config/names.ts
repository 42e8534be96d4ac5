// Every closed set of names in an experiment config, as const arrays: the schema validates against
// them, types.ts derives its unions from them, and the registries (weighting methods, transfer
// strategies, model types) are checked against them at compile time. A name is written once, here.

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export const NORMALIZE_KINDS = ['standardize', 'scale01', 'none'] as const;
export const ACTIVATIONS = ['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'linear', 'gelu', 'swish'] as const;
export const TRAINER_MODES = ['pretrain', 'finetune', 'multitask'] as const;
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
/** `val.loss` is minimised, `val.accuracy` / `val.macroF1` maximised. */
export const MONITORS = ['val.loss', 'val.accuracy', 'val.macroF1'] as const;
/** Model types of `model.type`; src/models/registry.ts has one builder per name. */
export const MODEL_TYPES = ['mlp', 'cnn'] as const;
export const PADDINGS = ['valid', 'same'] as const;

export const ARCHITECTURES = ['hard', 'cross-stitch', 'mmoe'] as const;
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
export const LOSS_NORMALIZATIONS = ['none', 'initial', 'log'] as const;
export const TASK_METRICS = ['accuracy', 'macroF1', 'aucRoc', 'loss'] as const;
export const METRIC_DIRECTIONS = ['higher', 'lower'] as const;

/** Transfer strategies; src/train/transfer/strategies.ts describes each (what trains, phases, help line). */
export const STRATEGIES = ['full', 'linear-probe', 'lp-ft', 'gradual', 'freeze-conv', 'reinit', 'zero-shot'] as const;

export type BackendName = (typeof BACKENDS)[number];
export type NormalizeKind = (typeof NORMALIZE_KINDS)[number];
export type Activation = (typeof ACTIVATIONS)[number];
export type TrainerMode = (typeof TRAINER_MODES)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type ScheduleName = (typeof SCHEDULES)[number];
export type MonitorName = (typeof MONITORS)[number];
export type ModelType = (typeof MODEL_TYPES)[number];
export type MultitaskArchitecture = (typeof ARCHITECTURES)[number];
export type WeightingName = (typeof WEIGHTINGS)[number];
/** How task losses are rescaled before weighting: by their first-step value, or by taking the log. */
export type LossNormalization = (typeof LOSS_NORMALIZATIONS)[number];
export type TaskMetricName = (typeof TASK_METRICS)[number];
/**
 * Transfer strategies: `full` (everything trains from the source weights), `linear-probe` (frozen
 * backbone, new head), `lp-ft` (probe, then unfreeze at a lower LR; Kumar et al. 2022), `gradual`
 * (unfreeze a block per epoch from the top with discriminative LRs; ULMFiT), `freeze-conv` (frozen
 * conv blocks, dense layers + head train; Keras's mnist_transfer_cnn), `reinit` (same model from
 * scratch: the baseline), `zero-shot` (the source model evaluated as is).
 */
export type FinetuneStrategy = (typeof STRATEGIES)[number];
