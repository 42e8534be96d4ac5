// The `tasks:` and `multitask:` sections of an experiment config (trainer.mode: multitask), and the
// cross-field checks that tie them to the rest of the config.
import { z } from 'zod';
import { datasetSource } from './data-schema.ts';
import { DATASET_FORMS, isMultiDataset, MULTI_DATASETS } from './dataset-spec.ts';
import { datasetField, doc, expectation, FIELD_INFO, nullableNum, num, oneOf, widths } from './fields.ts';
import { ARCHITECTURES, LOSS_NORMALIZATIONS, METRIC_DIRECTIONS, TASK_METRICS, WEIGHTINGS } from './names.ts';
import type { Config } from './types.ts';

export const TASK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
export const LABELS_PATTERN = /^(?:(?:label|left|right)(?:\.parity)?|parity)$/;
const BUILT_IN_LABELS = 'label, left, right, parity, left.parity or right.parity';

function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, { error: expectation('a mapping of keys to values') });
}

const taskDatasetField = datasetField(`${DATASET_FORMS}, or ${MULTI_DATASETS.join(', ')}`);

const metricSchema = section({
  name: doc(oneOf(TASK_METRICS), 'Metric name (required).'),
  direction: doc(oneOf(METRIC_DIRECTIONS).default('higher'), 'Which way is better; `loss` must say `lower`.'),
}).superRefine((m, ctx) => {
  const natural = m.name === 'loss' ? 'lower' : 'higher';
  if (m.direction !== natural)
    ctx.addIssue({
      code: 'custom',
      path: ['direction'],
      message: `${m.name}: ${natural} is better, got direction '${m.direction}'`,
    });
});

const headSchema = section({
  hidden: doc(
    widths().default([50]),
    "Hidden dense widths before the output layer (MultiLeNet's head: 50→50→classes).",
  ),
  classes: doc(
    nullableNum({ int: true, min: 2 }).default(null),
    "Output classes; null = the number of classes of the task's labels.",
  ),
});

const taskSchema = section({
  name: doc(
    z
      .string({ error: expectation('a task name: a letter, then letters, digits or underscores') })
      .regex(TASK_NAME_PATTERN, {
        error: 'expected a task name: a letter, then up to 31 letters, digits or underscores',
      })
      .register(FIELD_INFO, { kind: 'string [A-Za-z][A-Za-z0-9_]*' }),
    'Task name, used in layer names (`head_<name>`) and records (required).',
  ),
  labels: doc(
    z
      .string({ error: expectation(`${BUILT_IN_LABELS}, or a CSV label column`) })
      .min(1, { error: `expected ${BUILT_IN_LABELS}, or a CSV label column` })
      .register(FIELD_INFO, { kind: 'label | left | right | parity | <labels>.parity | <CSV column>' })
      .default('label'),
    "Which labels: the dataset's `label`, `left` / `right` of a multi-digit set, derived `parity` / `left.parity`, or a column of a `csv:` table.",
  ),
  dataset: doc(
    taskDatasetField.nullable().default(null),
    "Multi-input: this task's own dataset; null = `data.dataset`.",
  ),
  head: headSchema.prefault({}),
  loss: doc(oneOf(['crossEntropy']).default('crossEntropy'), 'Task loss (softmax cross-entropy).'),
  metrics: doc(
    z
      .array(metricSchema, { error: expectation('a list of {name, direction}') })
      .min(1, { error: 'a task needs at least one metric' })
      .prefault([{ name: 'accuracy' }]),
    'Metrics compared against single-task baselines in Δm.',
  ),
  weight: doc(num({ gt: 0 }).default(1), "The task's weight under `multitask.weighting: static`."),
});

export const tasksSchema = doc(
  z.array(taskSchema, { error: expectation('a list of tasks') }).default([]),
  'The tasks of `trainer.mode: multitask`, each with its labels, head, loss and metrics.',
);

const distillSchema = section({
  from: doc(
    z.array(z.string({ error: expectation('a run id') }), { error: expectation('a list of run ids') }).default([]),
    'Single-task teacher runs (ids, prefixes or paths); [] = no distillation.',
  ),
  temperature: doc(num({ gt: 0 }).default(2), 'Softmax temperature of the soft targets (Hinton et al. 2015).'),
  alpha: doc(num({ min: 0, max: 1 }).default(0.5), 'Weight of the distillation term against the hard-label loss.'),
});

export const multitaskSchema = section({
  architecture: doc(
    oneOf(ARCHITECTURES).default('hard'),
    '`hard` shared trunk, `cross-stitch` columns (Misra et al. 2016), or `mmoe` (Ma et al. 2018).',
  ),
  weighting: doc(oneOf(WEIGHTINGS).default('equal'), 'How task losses or gradients are combined.'),
  normalizeLosses: doc(
    oneOf(LOSS_NORMALIZATIONS).default('none'),
    'Rescale task losses before weighting: by the first-step loss, or log.',
  ),
  dwaTemperature: doc(num({ gt: 0 }).default(2), 'DWA temperature T (Liu et al. 2019).'),
  gradnormAlpha: doc(num({ min: 0 }).default(1.5), 'GradNorm asymmetry α (Chen et al. 2018).'),
  cagradC: doc(num({ min: 0 }).default(0.4), 'CAGrad c, the radius of the conflict-averse ball (Liu et al. 2021).'),
  experts: doc(num({ int: true, min: 1, max: 16 }).default(3), 'MMoE: number of experts.'),
  distill: distillSchema.prefault({}),
});

type Checked = Pick<Config, 'trainer' | 'data' | 'tasks' | 'multitask'>;

/** Checks across sections: tasks exist exactly in multitask mode, names are unique, multi sets need tasks. */
export function checkMultitaskConfig(cfg: Checked, ctx: z.RefinementCtx): void {
  const multitask = cfg.trainer.mode === 'multitask';
  if (multitask && cfg.tasks.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['tasks'],
      message: 'trainer.mode multitask needs at least one task under tasks:',
    });
  }
  if (!multitask && cfg.tasks.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['tasks'],
      message: `tasks are only used with trainer.mode: multitask (mode is ${cfg.trainer.mode})`,
    });
  }
  if (!multitask && isMultiDataset(cfg.data.dataset)) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'dataset'],
      message: `'${cfg.data.dataset}' has two labels per image; use it with trainer.mode: multitask`,
    });
  }
  const seen = new Set<string>();
  cfg.tasks.forEach((t, i) => {
    // A table names its label columns freely; every other dataset offers the built-in label forms.
    const table = datasetSource(t.dataset ?? cfg.data.dataset) === 'csv';
    if (!table && !LABELS_PATTERN.test(t.labels))
      ctx.addIssue({ code: 'custom', path: ['tasks', i, 'labels'], message: `expected ${BUILT_IN_LABELS}` });
    if (seen.has(t.name))
      ctx.addIssue({ code: 'custom', path: ['tasks', i, 'name'], message: `task name '${t.name}' is used twice` });
    seen.add(t.name);
  });
}
