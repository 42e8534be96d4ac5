// `--set a.b=value` overrides: the value is YAML (so `[256,128]`, `3e-4`, `null` work) and the
// path must exist in the schema, checked here so a typo is named before anything else runs.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { type ConfigIssue, UsageError } from '../errors.ts';
import { configSchema } from './schema.ts';
import { childSchema, getAt, keysAt, objectAt, type PathSegment, unknownKeyMessage, unwrapSchema } from './walk.ts';

export interface Override {
  path: string[];
  value: unknown;
  /** How the user wrote it, used as the location of issues it causes: `--set trainer.epochs=3`. */
  label: string;
}

/** Parses `key.path=value`; a missing `=` or an empty key segment is a usage error. */
export function parseOverride(arg: string): Override | ConfigIssue {
  const label = `--set ${arg}`;
  const eq = arg.indexOf('=');
  if (eq < 0) throw new UsageError(`${label}: expected key=value, e.g. --set trainer.optimizer.lr=3e-4`);
  const path = arg.slice(0, eq).trim().split('.');
  if (path.some((segment) => segment === '')) {
    throw new UsageError(`${label}: the key must be a dotted path such as trainer.epochs`);
  }
  const doc = parseDocument(arg.slice(eq + 1), { prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      path: path.join('.'),
      message: `cannot parse the value as YAML: ${doc.errors[0]!.message}`,
      location: label,
    };
  }
  return { path, value: doc.toJS(), label };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The union whose discriminator this path sets (e.g. `model.type`), if any. */
function discriminatorUnion(path: readonly string[]): z.ZodDiscriminatedUnion | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (const segment of path.slice(0, -1)) schema = schema && childSchema(schema, segment, undefined);
  const core = schema && unwrapSchema(schema).core;
  if (!(core instanceof z.ZodDiscriminatedUnion)) return undefined;
  return core.def.discriminator === path.at(-1) ? core : undefined;
}

/** Checks the path against the schema as it reads for `data` (unions follow their tag). */
function checkPath(override: Override, data: unknown): ConfigIssue | undefined {
  let schema: z.ZodType = configSchema;
  for (let i = 0; i < override.path.length; i++) {
    const segment = override.path[i]!;
    const parent = getAt(data, override.path.slice(0, i));
    const child = childSchema(schema, segment, parent);
    const issue = (message: string): ConfigIssue => ({
      path: override.path.join('.'),
      message,
      location: override.label,
    });
    if (!child) {
      // With an invalid tag (`model.type=rnn`) the variant is unknown: the tag's own error says it all.
      if (unwrapSchema(schema).core instanceof z.ZodDiscriminatedUnion && !objectAt(schema, parent)) return undefined;
      const keys = keysAt(schema, parent);
      const where = i === 0 ? ' here' : ` under ${override.path.slice(0, i).join('.')}`;
      if (keys) return issue(unknownKeyMessage(segment, keys, where));
      if (Array.isArray(parent) || unwrapSchema(schema).core instanceof z.ZodArray) {
        return issue(`'${segment}' is not an index of the list ${override.path.slice(0, i).join('.')}`);
      }
      return issue(`${override.path.slice(0, i).join('.')} is a single value, not a section`);
    }
    // Indexing into a list the file does not define would silently replace its default.
    if (unwrapSchema(schema).core instanceof z.ZodArray && getAt(parent, [segment]) === undefined) {
      return issue(`${override.path.slice(0, i).join('.')} has no element ${segment}; set the whole list instead`);
    }
    schema = child;
  }
  return undefined;
}

/** Sets a value, creating mappings on the way; a new union tag drops keys the new variant lacks. */
function setAt(data: Record<string, unknown>, override: Override): void {
  let node: Record<string, unknown> | unknown[] = data;
  const path = override.path;
  for (const segment of path.slice(0, -1)) {
    const key = Array.isArray(node) ? Number(segment) : segment;
    const next = (node as Record<string, unknown>)[key];
    if (!isRecord(next) && !Array.isArray(next)) (node as Record<string, unknown>)[key] = {};
    node = (node as Record<string, unknown>)[key] as Record<string, unknown>;
  }
  const last = Array.isArray(node) ? Number(path.at(-1)) : path.at(-1)!;
  (node as Record<string, unknown>)[last] = override.value;
  const union = discriminatorUnion(path);
  if (union && isRecord(node)) dropForeignKeys(node, union);
}

/** Switching `model.type=cnn` on an MLP config must not leave `hidden` behind as an unknown key. */
function dropForeignKeys(node: Record<string, unknown>, union: z.ZodDiscriminatedUnion): void {
  const variant = (union.options as unknown as z.ZodObject[]).find(
    (o) =>
      unwrapSchema(o.shape[union.def.discriminator] as z.ZodType).core.safeParse(node[union.def.discriminator]).success,
  );
  if (!variant) return;
  for (const key of Object.keys(node)) if (!Object.hasOwn(variant.shape, key)) delete node[key];
}

export interface AppliedOverrides {
  data: Record<string, unknown>;
  issues: ConfigIssue[];
  /** The overrides that were applied, in the order they were. */
  applied: Override[];
}

/**
 * Applies overrides in order to a copy of `data`, except that union tags (`model.type`) go first
 * so the keys of the new variant may be set in any order. Returns the data and any issues.
 */
export function applyOverrides(data: Record<string, unknown>, overrides: readonly Override[]): AppliedOverrides {
  const out = structuredClone(data);
  const isTag = (o: Override) => discriminatorUnion(o.path) !== undefined;
  const ordered = [...overrides.filter(isTag), ...overrides.filter((o) => !isTag(o))];
  const result: AppliedOverrides = { data: out, issues: [], applied: [] };
  for (const override of ordered) {
    const issue = checkPath(override, out);
    if (issue) result.issues.push(issue);
    else {
      setAt(out, override);
      result.applied.push(override);
    }
  }
  return result;
}

/** The applied override that last set this path or one above it: where an issue at `path` came from. */
export function overrideFor(path: readonly PathSegment[], overrides: readonly Override[]): Override | undefined {
  const matches = overrides.filter(
    (o) => o.path.length <= path.length && o.path.every((s, i) => s === String(path[i])),
  );
  return matches.at(-1);
}
