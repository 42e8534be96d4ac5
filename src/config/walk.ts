// Reads the config schema as a tree: which keys exist at a path, what a field's default and label
// are. Shared by --set path checks, unknown-key messages and the config reference.
import { z } from 'zod';
import { editDistance } from '../text.ts';
import { FIELD_INFO, type FieldInfo } from './fields.ts';

export type PathSegment = string | number;

export interface Unwrapped {
  /** The schema under every default/nullable wrapper: an object, array, union or leaf. */
  core: z.ZodType;
  /** The outermost default, if any (a prefault's value is the partial input it parses). */
  defaultValue?: unknown;
  hasDefault: boolean;
  nullable: boolean;
  info: FieldInfo;
}

/** Strips default/prefault/optional/nullable wrappers, collecting what they say on the way. */
export function unwrapSchema(schema: z.ZodType): Unwrapped {
  const out: Unwrapped = { core: schema, hasDefault: false, nullable: false, info: {} };
  for (let layer: z.ZodType | undefined = schema; layer; ) {
    out.info = { ...FIELD_INFO.get(layer), ...out.info };
    out.core = layer;
    if (layer instanceof z.ZodDefault || layer instanceof z.ZodPrefault) {
      if (!out.hasDefault) out.defaultValue = layer.def.defaultValue;
      out.hasDefault = true;
      layer = layer.def.innerType as z.ZodType;
    } else if (layer instanceof z.ZodNullable || layer instanceof z.ZodOptional) {
      out.nullable ||= layer instanceof z.ZodNullable;
      layer = layer.def.innerType as z.ZodType;
    } else {
      layer = undefined;
    }
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The discriminator literal of a union variant, e.g. 'mlp'. */
export function variantTag(variant: z.ZodObject, discriminator: string): string {
  const literal = unwrapSchema(variant.shape[discriminator] as z.ZodType).core;
  return literal instanceof z.ZodLiteral ? String(literal.def.values[0]) : '';
}

/** The variant a raw value selects; a missing tag selects the variant whose tag has a default. */
export function selectVariant(union: z.ZodDiscriminatedUnion, raw: unknown): z.ZodObject | undefined {
  const key = union.def.discriminator;
  const options = union.options as unknown as z.ZodObject[];
  const tag = isRecord(raw) ? raw[key] : undefined;
  if (tag === undefined) return options.find((o) => unwrapSchema(o.shape[key] as z.ZodType).hasDefault);
  return options.find((o) => variantTag(o, key) === tag);
}

/** The object schema that governs `raw` at this node, resolving unions by their tag. */
export function objectAt(schema: z.ZodType, raw: unknown): z.ZodObject | undefined {
  const core = unwrapSchema(schema).core;
  if (core instanceof z.ZodObject) return core;
  if (core instanceof z.ZodDiscriminatedUnion) return selectVariant(core, raw);
  return undefined;
}

/** Valid keys of the mapping at this node, in schema order; undefined if it is not a mapping. */
export function keysAt(schema: z.ZodType, raw: unknown): string[] | undefined {
  const object = objectAt(schema, raw);
  return object ? Object.keys(object.shape) : undefined;
}

/** The child schema under one path segment (a key, or an index into a list). */
export function childSchema(schema: z.ZodType, segment: PathSegment, raw: unknown): z.ZodType | undefined {
  const core = unwrapSchema(schema).core;
  if (core instanceof z.ZodArray) {
    return typeof segment === 'number' || /^\d+$/.test(segment) ? (core.element as z.ZodType) : undefined;
  }
  const object = objectAt(schema, raw);
  if (!object || typeof segment !== 'string' || !Object.hasOwn(object.shape, segment)) return undefined;
  return object.shape[segment] as z.ZodType;
}

/** Reads a value at a path in plain data (keys or list indices); undefined where it stops. */
export function getAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isRecord(node)) node = node[String(segment)];
    else return undefined;
  }
  return node;
}

/** `unknown key 'batchsize' (valid keys: a, b); did you mean 'batchSize'?` */
export function unknownKeyMessage(key: string, valid: readonly string[], here = ''): string {
  const scored = valid.map((v) => ({ v, d: editDistance(key.toLowerCase(), v.toLowerCase()) }));
  const best = scored.sort((x, y) => x.d - y.d)[0];
  const hint = best && best.d <= 2 ? `; did you mean '${best.v}'?` : '';
  return `unknown key '${key}' (valid keys${here}: ${valid.join(', ')})${hint}`;
}
