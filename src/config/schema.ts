// The zod schema of an experiment config: strict objects, every default of types.ts, human errors.
// Its output type is checked at compile time to be exactly `Config`.
import { z } from 'zod';
import { checkOwnDataConfig, ownDataKeys } from './data-schema.ts';
import { DATASET_FORMS } from './dataset-spec.ts';
import { bool, datasetField, doc, expectation, FIELD_INFO, nullableNum, num, oneOf, widths } from './fields.ts';
import { checkFinetuneConfig, finetuneSchema, initSchema } from './finetune-schema.ts';
import { checkMultitaskConfig, multitaskSchema, tasksSchema } from './multitask-schema.ts';
import {
  ACTIVATIONS,
  BACKENDS,
  MONITORS,
  NORMALIZE_KINDS,
  OPTIMIZERS,
  PADDINGS,
  SCHEDULES,
  TRAINER_MODES,
} from './names.ts';
import type { Config } from './types.ts';

export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Unknown keys are errors (as in nanoGPT's configurator): a typo must not silently become a default. */
function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, { error: expectation('a mapping of keys to values') });
}

const fraction = { min: 0, lt: 1 };

const dataSchema = section({
  dataset: doc(
    datasetField(DATASET_FORMS).default('mnist'),
    '`mnist`, `fashion`, `idx:<dir>`, `images:<dir>`, `csv:<file>`, or a class subset such as `mnist:0-4`.',
  ),
  normalize: doc(
    oneOf(NORMALIZE_KINDS).default('standardize'),
    'Input normalization fitted on the training split (tables: numeric columns; `scale01` = min-max there).',
  ),
  validation: doc(num(fraction).default(0.1), 'Fraction of the training split held out for validation.'),
  limit: doc(
    nullableNum({ int: true, min: 1 }).default(null),
    'Train on a seeded sample of this many training examples; null = all.',
  ),
  ...ownDataKeys,
});

const mlpSchema = section({
  // Defaulting the discriminator lets `model: {hidden: [64]}` mean an MLP, as the whole section does.
  type: doc(z.literal('mlp').default('mlp'), 'Architecture: `mlp` or `cnn`.'),
  hidden: doc(widths().default([128]), "Hidden layer widths (the seed's 784-128-10)."),
  activation: doc(oneOf(ACTIVATIONS).default('relu'), 'Activation of the hidden layers.'),
  dropout: doc(num(fraction).default(0), 'Dropout after each hidden layer.'),
});

const convBlockSchema = section({
  filters: doc(num({ int: true, min: 1 }), 'Number of convolution filters (required).'),
  kernel: doc(num({ int: true, min: 1 }).default(3), 'Square kernel size.'),
  stride: doc(num({ int: true, min: 1 }).default(1), 'Convolution stride.'),
  padding: doc(oneOf(PADDINGS).default('valid'), "`valid` (as Keras and PyTorch's padding=0) or `same`."),
  activation: doc(oneOf(ACTIVATIONS).default('relu'), 'Activation after the convolution.'),
  batchNorm: doc(bool().default(false), 'BatchNormalization after the convolution, before the activation.'),
  pool: doc(num({ int: true, min: 0 }).default(2), 'Max-pool size after the block; 0 = no pooling.'),
});

/** Keras's mnist_convnet: conv 32 → pool → conv 64 → pool; also what `--set model.type=cnn` gets. */
const DEFAULT_CONV = [{ filters: 32 }, { filters: 64 }];

const cnnSchema = section({
  type: doc(z.literal('cnn'), 'Architecture: `mlp` or `cnn`.'),
  conv: doc(
    z
      .array(convBlockSchema, { error: expectation('a list of conv blocks') })
      .min(1, { error: 'a cnn needs at least one conv block' })
      .prefault(DEFAULT_CONV),
    'Convolution blocks, each conv → [batchNorm] → activation → [max-pool].',
  ),
  dense: doc(widths().default([128]), 'Dense layers after flattening.'),
  activation: doc(oneOf(ACTIVATIONS).default('relu'), 'Activation of the dense layers.'),
  dropout: doc(num(fraction).default(0), 'Dropout after each dense layer.'),
});

export const modelSchema = z.discriminatedUnion('type', [mlpSchema, cnnSchema], {
  error: expectation('a mapping with type: mlp or cnn'),
});

const optimizerSchema = section({
  name: doc(oneOf(OPTIMIZERS).default('adam'), 'Optimizer.'),
  lr: doc(num({ gt: 0 }).default(0.001), 'Base learning rate.'),
  momentum: doc(num(fraction).default(0), 'SGD momentum / RMSprop momentum.'),
  beta1: doc(num(fraction).default(0.9), 'Adam β1.'),
  beta2: doc(num(fraction).default(0.999), 'Adam β2.'),
  epsilon: doc(num({ gt: 0 }).default(1e-7), "Adam / RMSprop ε (Keras's default)."),
  rho: doc(num(fraction).default(0.9), 'RMSprop decay ρ.'),
});

const scheduleSchema = section({
  name: doc(oneOf(SCHEDULES).default('constant'), 'Learning-rate schedule.'),
  warmupEpochs: doc(num({ min: 0 }).default(0), 'Linear warmup from 0 over this many epochs (fractions allowed).'),
  stepEpochs: doc(num({ gt: 0 }).default(3), '`step`: multiply by `gamma` every `stepEpochs` epochs.'),
  gamma: doc(num({ gt: 0, max: 1 }).default(0.1), '`step`: decay factor.'),
  minLr: doc(num({ min: 0 }).default(0), '`cosine`: final learning rate.'),
});

const regularizationSchema = section({
  l1: doc(num({ min: 0 }).default(0), 'λ for the L1 penalty on kernel weights.'),
  l2: doc(num({ min: 0 }).default(0), 'λ for the L2 penalty on kernel weights.'),
});

const earlyStoppingSchema = section({
  patience: doc(
    nullableNum({ int: true, min: 1 }).default(null),
    'Epochs without improvement of `trainer.monitor` before stopping; null = off.',
  ),
  minDelta: doc(num({ min: 0 }).default(0), 'Smallest change that counts as an improvement.'),
});

const trainerSchema = section({
  mode: doc(oneOf(TRAINER_MODES).default('pretrain'), 'Which trainer runs: `pretrain`, `finetune` or `multitask`.'),
  epochs: doc(num({ int: true, min: 1, max: 10000 }).default(10), 'Number of passes over the training split.'),
  batchSize: doc(num({ int: true, min: 1, max: 65536 }).default(128), 'Examples per gradient step.'),
  // prefault (not default) so a partial or absent section is parsed and gets its inner defaults.
  optimizer: optimizerSchema.prefault({}),
  schedule: scheduleSchema.prefault({}),
  regularization: regularizationSchema.prefault({}),
  monitor: doc(
    oneOf(MONITORS).default('val.accuracy'),
    'Validation metric that selects the best checkpoint and drives early stopping.',
  ),
  earlyStopping: earlyStoppingSchema.prefault({}),
});

const nameField = z
  .string({ error: expectation('a run name of 1-64 letters, digits, dots, dashes or underscores') })
  .regex(NAME_PATTERN)
  .register(FIELD_INFO, { kind: 'string [A-Za-z0-9._-]{1,64}' });

export const configSchema = section({
  name: doc(nameField, "Run name, used in the run id (default: the config file's base name)."),
  seed: doc(num({ int: true, min: 0 }).default(42), 'Seed of every random choice the runner makes.'),
  backend: doc(oneOf(BACKENDS).default('auto'), 'TF.js backend; `auto` picks the first that loads.'),
  data: dataSchema.prefault({}),
  model: modelSchema.prefault({ type: 'mlp' }),
  trainer: trainerSchema.prefault({}),
  tasks: tasksSchema,
  multitask: multitaskSchema.prefault({}),
  init: initSchema.prefault({}),
  finetune: finetuneSchema.prefault({}),
})
  .superRefine(checkMultitaskConfig)
  .superRefine(checkFinetuneConfig)
  .superRefine(checkOwnDataConfig);

/** What a YAML file may contain before defaults are filled (every key optional except `name`). */
export type RawConfig = z.input<typeof configSchema>;

// Compile-time proof that the schema produces exactly the documented Config, both ways.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesConfig: Exactly<z.output<typeof configSchema>, Config> = true;
void schemaMatchesConfig;
