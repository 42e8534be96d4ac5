// Building blocks of the config schema whose errors read like a person wrote them
// ("expected an integer ≥ 1, got -1") and which remember a type label for the config reference.
import { z } from 'zod';
import { isMultiDataset, parseDatasetSpec } from './dataset-spec.ts';

/** What the config reference (describeConfig) knows about a field; attached per schema layer. */
export interface FieldInfo {
  /** Human type label, e.g. `integer ≥ 1`, `relu | elu`. */
  kind?: string;
  description?: string;
}

/** Field labels and descriptions live in our own registry so zod's global one stays untouched. */
export const FIELD_INFO = z.registry<FieldInfo>();

export interface Bounds {
  int?: boolean;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  gt?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** Exclusive upper bound. */
  lt?: number;
}

/** Renders a raw value for a message: strings quoted, objects as short JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `a list (${truncate(JSON.stringify(value))})`;
  if (value !== null && typeof value === 'object') return `a mapping (${truncate(JSON.stringify(value))})`;
  return String(value);
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** One message for every way a field can fail, so a value is judged against its full range. */
export function expectation(label: string): (issue: { input?: unknown }) => string {
  return (issue) =>
    issue.input === undefined ? `missing; expected ${label}` : `expected ${label}, got ${showValue(issue.input)}`;
}

/** `an integer ≥ 1`, `a number ≥ 0 and < 1`, `an integer from 1 to 65536`. */
export function describeBounds(b: Bounds): string {
  const noun = b.int ? 'an integer' : 'a number';
  if (b.int && b.min !== undefined && b.max !== undefined) return `${noun} from ${b.min} to ${b.max}`;
  const parts: string[] = [];
  if (b.min !== undefined) parts.push(`≥ ${b.min}`);
  if (b.gt !== undefined) parts.push(`> ${b.gt}`);
  if (b.max !== undefined) parts.push(`≤ ${b.max}`);
  if (b.lt !== undefined) parts.push(`< ${b.lt}`);
  return parts.length ? `${noun} ${parts.join(' and ')}` : noun;
}

/** A finite number within bounds (YAML `.inf` and `.nan` are rejected by zod's number). */
export function num(bounds: Bounds, orNull = false): z.ZodNumber {
  const label = describeBounds(bounds) + (orNull ? ' or null' : '');
  let schema = z.number({ error: expectation(label) });
  if (bounds.int) schema = schema.int();
  if (bounds.min !== undefined) schema = schema.min(bounds.min);
  if (bounds.gt !== undefined) schema = schema.gt(bounds.gt);
  if (bounds.max !== undefined) schema = schema.max(bounds.max);
  if (bounds.lt !== undefined) schema = schema.lt(bounds.lt);
  return schema.register(FIELD_INFO, { kind: label.replace(/^an? /, '') });
}

/** A number within bounds, or null meaning "off" / "all". */
export function nullableNum(bounds: Bounds): z.ZodNullable<z.ZodNumber> {
  return num(bounds, true).nullable();
}

/** A closed set of strings; the error lists every allowed value. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): z.ZodEnum<{ [K in T[number]]: K }> {
  const label = `one of ${values.join(', ')}`;
  return z.enum(values, { error: expectation(label) }).register(FIELD_INFO, { kind: values.join(' | ') });
}

/** A list of positive integers such as layer widths. */
export function widths(): z.ZodArray<z.ZodNumber> {
  const label = 'a list of positive integers, e.g. [256, 128]';
  return z.array(num({ int: true, min: 1 }), { error: expectation(label) }).register(FIELD_INFO, {
    kind: 'list of integers ≥ 1',
  });
}

export function bool(): z.ZodBoolean {
  return z.boolean({ error: expectation('true or false') }).register(FIELD_INFO, { kind: 'boolean' });
}

/** Attaches the reference description to the outermost layer (after `.default()`). */
export function doc<S extends z.ZodType>(schema: S, description: string): S {
  FIELD_INFO.add(schema, { ...FIELD_INFO.get(schema), description });
  return schema;
}

/** A `data.dataset`-style string: any form of config/dataset-spec.ts, or a built-in two-object set. */
export function datasetField(expected: string) {
  return z
    .string({ error: expectation(expected) })
    .superRefine((value, ctx) => {
      const parsed = parseDatasetSpec(value);
      if (!parsed.ok && !isMultiDataset(value))
        ctx.addIssue({ code: 'custom', message: `${parsed.reason}; expected ${expected}` });
    })
    .register(FIELD_INFO, { kind: 'dataset string' });
}
