// The sweep file's strict schema (the same style as configs: unknown keys are errors, every issue
// reported at once with `file:line:col`), and the search-space forms a parameter may take.
import { z } from 'zod';
import { bool, doc, expectation, num, oneOf } from '../config/fields.ts';
import { NAME_PATTERN } from '../config/schema.ts';

export const METHODS = ['grid', 'random'] as const;
export const PRUNERS = ['asha', 'median'] as const;
/** `val.accuracy`, `val.loss`, `val.macroF1`, or per task `tasks.<task>.val.<metric>`. */
export const METRIC_PATTERN = /^(tasks\.[A-Za-z0-9_-]+\.)?val\.(loss|accuracy|macroF1)$/;

function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, { error: expectation('a mapping of keys to values') });
}

const rangeSchema = section({
  min: num({}),
  max: num({}),
  log: bool().default(false),
  int: bool().default(false),
  steps: num({ int: true, min: 2, max: 1000 }).nullable().default(null),
}).superRefine((r, ctx) => {
  if (r.max <= r.min) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be > min (${r.min})` });
  if (r.log && r.min <= 0) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must be > 0 with log: true' });
});

const valuesSchema = section({
  values: z.array(z.unknown(), { error: expectation('a list of values') }).min(1, 'needs at least one value'),
});

/** A parameter: a list of values, `{values: […]}`, a range `{min, max, log?, int?, steps?}`, or one value. */
const paramSchema = z.unknown().transform((raw, ctx) => {
  if (Array.isArray(raw)) {
    if (raw.length === 0) ctx.addIssue({ code: 'custom', message: 'an empty list of values' });
    return { kind: 'values' as const, values: raw };
  }
  if (raw !== null && typeof raw === 'object') {
    const isRange = 'min' in raw || 'max' in raw;
    const parsed = (isRange ? rangeSchema : valuesSchema).safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
      return z.NEVER;
    }
    return isRange
      ? { kind: 'range' as const, ...(parsed.data as z.output<typeof rangeSchema>) }
      : { kind: 'values' as const, values: (parsed.data as { values: unknown[] }).values };
  }
  return { kind: 'values' as const, values: [raw] };
});

const earlyTerminateSchema = z.discriminatedUnion(
  'type',
  [
    section({
      type: z.literal('asha'),
      minEpochs: doc(num({ int: true, min: 1 }).default(1), 'Epochs of the first rung.'),
      eta: doc(num({ int: true, min: 2 }).default(3), 'Reduction factor: the top 1/eta of a rung go on.'),
    }),
    section({
      type: z.literal('median'),
      minEpochs: doc(num({ int: true, min: 1 }).default(1), 'No trial is stopped before this epoch.'),
      minTrials: doc(num({ int: true, min: 1 }).default(5), 'Trials that must have reached an epoch first.'),
    }),
  ],
  { error: expectation(`a mapping with type: ${PRUNERS.join(' | ')}`) },
);

export const sweepBodySchema = section({
  base: z.string({ error: expectation('the path of an experiment config (relative to the sweep file)') }).min(1),
  name: z
    .string({ error: expectation('a run name') })
    .regex(NAME_PATTERN)
    .optional(),
  method: oneOf(METHODS).default('grid'),
  samples: num({ int: true, min: 1, max: 100000 }).default(10),
  seed: num({ int: true, min: 0 }).default(0),
  seeds: num({ int: true, min: 1, max: 1000 }).default(1),
  metric: z
    .string({ error: expectation('val.loss | val.accuracy | val.macroF1 | tasks.<task>.val.<metric>') })
    .regex(METRIC_PATTERN, 'expected val.loss | val.accuracy | val.macroF1 | tasks.<task>.val.<metric> (never test)')
    .default('val.accuracy'),
  parameters: z.record(z.string(), paramSchema, { error: expectation('a mapping of config paths to values') }),
  set: z.array(z.string(), { error: expectation('a list of key=value overrides') }).default([]),
  earlyTerminate: earlyTerminateSchema.nullable().default(null),
  attempts: num({ int: true, min: 1, max: 100 }).default(3),
});

export const sweepFileSchema = section({ sweep: sweepBodySchema });

export type SweepBody = z.output<typeof sweepBodySchema>;
