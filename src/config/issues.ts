// Turns zod's issues into ConfigIssues a person can act on: dotted path, plain message, and the
// `file:line:col` (or `--set …`) the bad value came from.
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.ts';
import { showValue } from './fields.ts';
import { type Override, overrideFor } from './overrides.ts';
import { type ConfigSource, locate } from './source.ts';
import { childSchema, getAt, keysAt, type PathSegment, unknownKeyMessage } from './walk.ts';

export interface IssueContext {
  schema: z.ZodType;
  /** The data that was validated (YAML after overrides). */
  data: unknown;
  source?: ConfigSource;
  overrides: readonly Override[];
}

/** Every zod issue becomes one or more ConfigIssues (one per unknown key), in file order. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): ConfigIssue[] {
  const out = issues.flatMap((issue) => convert(issue, ctx));
  return sortByLocation(out);
}

function convert(issue: z.core.$ZodIssue, ctx: IssueContext): ConfigIssue[] {
  const path = issue.path as PathSegment[];
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(schemaAt(ctx, path) ?? ctx.schema, getAt(ctx.data, path)) ?? [];
    return issue.keys.map((key) => located(ctx, [...path, key], unknownKeyMessage(key, valid), true));
  }
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    // zod lists `undefined` among the tags when one variant's tag has a default; hide it.
    const reported = (issue as { options?: unknown[] }).options ?? [];
    const options = reported.filter((o) => typeof o === 'string');
    const message = `expected one of ${options.join(', ')}, got ${showValue(getAt(ctx.data, path))}`;
    return [located(ctx, path, message)];
  }
  return [located(ctx, path, issue.message)];
}

function located(ctx: IssueContext, path: PathSegment[], message: string, key = false): ConfigIssue {
  const override = overrideFor(path, ctx.overrides);
  const location = override ? override.label : ctx.source && locate(ctx.source, path, key);
  const issue: ConfigIssue = { path: path.join('.'), message };
  if (location) issue.location = location;
  return issue;
}

/** The schema node at a path of the validated data (unions resolved by their tag). */
function schemaAt(ctx: IssueContext, path: readonly PathSegment[]): z.ZodType | undefined {
  let schema: z.ZodType | undefined = ctx.schema;
  for (let i = 0; i < path.length && schema; i++) {
    schema = childSchema(schema, path[i]!, getAt(ctx.data, path.slice(0, i)));
  }
  return schema;
}

/** Issues in the file come first, top to bottom; the rest (--set, defaults) keep their order. */
function sortByLocation(issues: ConfigIssue[]): ConfigIssue[] {
  const position = (issue: ConfigIssue): number => {
    const match = /:(\d+):(\d+)$/.exec(issue.location ?? '');
    return match ? Number(match[1]) * 1e6 + Number(match[2]) : Number.POSITIVE_INFINITY;
  };
  return issues
    .map((issue, index) => ({ issue, index, at: position(issue) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map((entry) => entry.issue);
}
