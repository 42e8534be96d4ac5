// Config flows one way: YAML file ← `--set` overrides ← CLI flags → schema → ResolvedConfig.
// Every problem found on the way (bad paths, bad values, unknown keys) is thrown together.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { toConfigIssues } from './issues.ts';
import { applyOverrides, type Override, parseOverride } from './overrides.ts';
import { configSchema, NAME_PATTERN } from './schema.ts';
import { type ConfigSource, parseConfigText } from './source.ts';
import type { BackendName, ResolvedConfig } from './types.ts';
import { childSchema, objectAt } from './walk.ts';

/** Dedicated CLI flags that override config keys (after every `--set`). */
export interface ConfigExtras {
  epochs?: number;
  seed?: number;
  limit?: number | null;
  backend?: BackendName;
  name?: string;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** What was validated: the YAML data with overrides and flags applied, before defaults. */
  raw: unknown;
  sourceFile: string;
}

export interface LoadTextOptions {
  /** Shown in locations and used for the default name (e.g. `configs/mnist-mlp.yaml`). */
  file: string;
  overrides?: readonly string[];
  extra?: ConfigExtras;
}

const EXTRA_PATHS: Record<keyof ConfigExtras, { path: string[]; flag: string }> = {
  epochs: { path: ['trainer', 'epochs'], flag: '--epochs' },
  seed: { path: ['seed'], flag: '--seed' },
  limit: { path: ['data', 'limit'], flag: '--limit' },
  backend: { path: ['backend'], flag: '--backend' },
  name: { path: ['name'], flag: '--name' },
};

/** Reads, overrides and validates a config file; throws ConfigError (exit 3) or UsageError (exit 2). */
export function loadConfig(file: string, overrides: readonly string[] = [], extra: ConfigExtras = {}): LoadedConfig {
  return loadConfigText(readConfigFile(file), { file, overrides, extra });
}

/** As loadConfig, for text already in memory (tests, a run folder's config.yaml). */
export function loadConfigText(text: string, options: LoadTextOptions): LoadedConfig {
  // Parse flags first: a malformed --set is a usage error whatever the file holds.
  const parsed = (options.overrides ?? []).map(parseOverride);
  const source = parseConfigText(text, options.file);
  const overrides = [...parsed.filter(isOverride), ...extrasAsOverrides(options.extra ?? {})];
  const { data, issues, applied } = applyOverrides(source.data, overrides);
  issues.unshift(...parsed.filter((p): p is ConfigIssue => !isOverride(p)));
  if (data.name === undefined) data.name = defaultName(options.file);
  dropEmptySections(configSchema, data);
  const result = configSchema.safeParse(data);
  if (!result.success) issues.push(...toConfigIssues(result.error.issues, issueContext(data, source, applied)));
  if (issues.length > 0 || !result.success) throw new ConfigError(issues, `invalid config ${options.file}`);
  return { config: result.data, raw: data, sourceFile: options.file };
}

/**
 * `trainer:` with every line under it commented out is YAML null; treat it as an empty section
 * (all defaults) rather than as a type error.
 */
function dropEmptySections(schema: z.ZodType, data: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(data)) {
    const child = childSchema(schema, key, data);
    if (!child || !objectAt(child, value ?? {})) continue;
    if (value === null) delete data[key];
    else if (typeof value === 'object' && !Array.isArray(value))
      dropEmptySections(child, value as Record<string, unknown>);
  }
}

function issueContext(data: unknown, source: ConfigSource, overrides: Override[]) {
  return { schema: configSchema, data, source, overrides };
}

function isOverride(value: Override | ConfigIssue): value is Override {
  return Array.isArray(value.path);
}

function extrasAsOverrides(extra: ConfigExtras): Override[] {
  const out: Override[] = [];
  for (const key of Object.keys(EXTRA_PATHS) as (keyof ConfigExtras)[]) {
    const value = extra[key];
    if (value === undefined) continue;
    const { path, flag } = EXTRA_PATHS[key];
    out.push({ path, value, label: `${flag} ${String(value)}` });
  }
  return out;
}

/** The file's base name, made into a valid run name (`my config.yaml` → `my-config`). */
export function defaultName(file: string): string {
  const stem = basename(file, extname(file))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 64);
  return NAME_PATTERN.test(stem) ? stem : 'experiment';
}

function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new ConfigError(
      [{ path: '', message: `cannot read config file ${file}: ${reason}`, location: file }],
      'cannot load config',
    );
  }
}
