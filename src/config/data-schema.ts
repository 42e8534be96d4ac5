// The keys of `data:` that describe your own data (`images:<dir>`, `csv:<file>`), and the checks that
// tie them to the dataset and the model: CSV keys on a CSV, image keys on images, no CNN on a table.
import { z } from 'zod';
import { parseDatasetSpec } from './dataset-spec.ts';
import { doc, expectation, FIELD_INFO, num, oneOf } from './fields.ts';
import { MISSING_POLICIES } from './names.ts';
import type { Config, DataConfig } from './types.ts';

/** A side of 4096 pixels is far beyond what this runner trains on; larger is a typo. */
const MAX_SIDE = 4096;

const side = num({ int: true, min: 1, max: MAX_SIDE });

const imageSchema = z
  .strictObject(
    {
      size: doc(
        z
          .tuple([side, side], { error: expectation(`[height, width], integers from 1 to ${MAX_SIDE}, or null`) })
          .nullable()
          .default(null)
          .register(FIELD_INFO, { kind: '[height, width] or null' }),
        'Every image is resized to this (bilinear, half-pixel centres, as Keras); null = the first image’s size.',
      ),
      channels: doc(
        z
          .literal([1, 3], { error: expectation('1 (grayscale), 3 (RGB) or null') })
          .nullable()
          .default(null)
          .register(FIELD_INFO, { kind: '1 | 3 | null' }),
        '1 = grayscale (BT.601 luma), 3 = RGB; null = as the first image.',
      ),
    },
    { error: expectation('a mapping of keys to values') },
  )
  .prefault({});

const columnName = z.string({ error: expectation('a column name') }).min(1, { error: 'expected a column name' });

function columnList(what: string) {
  return z
    .array(columnName, { error: expectation(`a list of ${what}`) })
    .default([])
    .register(FIELD_INFO, { kind: 'list of column names' });
}

/** The `data:` keys of your own data, spread into the data section of schema.ts. */
export const ownDataKeys = {
  test: doc(
    z
      .union([num({ gt: 0, lt: 1 }), z.string().min(1)], {
        error: expectation('a fraction > 0 and < 1, or the path of a test CSV file / image folder'),
      })
      .default(0.2)
      .register(FIELD_INFO, { kind: 'number > 0 and < 1, or a path' }),
    '`images:` / `csv:` without a test set of their own: the fraction held out for testing (stratified, fixed seed 1337), or a test file / folder.',
  ),
  image: doc(imageSchema, '`images:`: the size and channels every image is decoded to.'),
  label: doc(columnName.default('label'), '`csv:` single task: the label column.'),
  features: doc(
    z
      .union([z.literal('auto'), z.array(columnName).min(1)], {
        error: expectation('auto or a list of column names'),
      })
      .default('auto')
      .register(FIELD_INFO, { kind: 'auto | list of column names' }),
    '`csv:` feature columns; `auto` = every column that is neither a label nor ignored.',
  ),
  categorical: doc(columnList('column names'), '`csv:` numeric columns that are categories (one-hot encoded).'),
  ignore: doc(columnList('column names'), '`csv:` columns that are neither features nor labels (ids, free text).'),
  missing: doc(
    oneOf(MISSING_POLICIES).default('error'),
    '`csv:` a missing feature value is an `error`, or `mean`: filled with the training mean (one-hot: no category).',
  ),
  delimiter: doc(
    z
      .string({ error: expectation('one character such as , ; or a tab') })
      .regex(/^[^"\r\n]$/, { error: 'expected one character other than a quote or a line break, such as , ; or \\t' })
      .default(',')
      .register(FIELD_INFO, { kind: 'one character' }),
    '`csv:` field delimiter.',
  ),
};

/** The source of a dataset string (`csv`, `images`, `mnist`…), or null for multi-object sets and bad strings. */
export function datasetSource(dataset: string): string | null {
  const parsed = parseDatasetSpec(dataset);
  return parsed.ok ? parsed.spec.source : null;
}

type Checked = Pick<Config, 'data' | 'model' | 'tasks' | 'trainer'>;

const CSV_KEYS = ['label', 'features', 'categorical', 'ignore', 'missing', 'delimiter'] as const;
const DEFAULTS: Pick<DataConfig, (typeof CSV_KEYS)[number] | 'test'> = {
  label: 'label',
  features: 'auto',
  categorical: [],
  ignore: [],
  missing: 'error',
  delimiter: ',',
  test: 0.2,
};

/** Keys set for a source that never reads them are errors: a setting must not silently do nothing. */
export function checkOwnDataConfig(cfg: Checked, ctx: z.RefinementCtx): void {
  // The datasets that are read: the tasks' in multi-task mode, else data.dataset.
  const multitask = cfg.trainer.mode === 'multitask' && cfg.tasks.length > 0;
  const datasets = multitask ? cfg.tasks.map((t) => t.dataset ?? cfg.data.dataset) : [cfg.data.dataset];
  const sources = new Set(datasets.map(datasetSource));
  const issue = (path: (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path, message });
  };
  if (!sources.has('csv')) {
    for (const key of CSV_KEYS)
      if (JSON.stringify(cfg.data[key]) !== JSON.stringify(DEFAULTS[key]))
        issue(['data', key], 'applies to csv:<file> datasets only');
  }
  if (!sources.has('images') && (cfg.data.image.size !== null || cfg.data.image.channels !== null))
    issue(['data', 'image'], 'applies to images:<dir> datasets only');
  if (!sources.has('csv') && !sources.has('images') && cfg.data.test !== DEFAULTS.test)
    issue(['data', 'test'], 'applies to images: and csv: datasets (mnist, fashion and idx have fixed test splits)');
  if (multitask && cfg.data.label !== DEFAULTS.label)
    issue(['data', 'label'], 'multi-task runs name each task’s label column with tasks[].labels');
  if (sources.has('csv') && cfg.model.type === 'cnn')
    issue(['model', 'type'], 'a cnn needs images; a csv: table is a flat feature vector: use model.type mlp');
  if (sources.has('csv') && sources.size > 1)
    issue(['tasks'], 'a csv: table cannot share a trunk with another dataset: put every label column in one CSV');
}
