// Reads what the user wrote into a SweepSpec: a sweep file (`sweep:` at the top, strict schema,
// `file:line:col` errors) or the shorthand `mtl sweep <config.yaml> --param k=v1,v2 …`; flags win.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { toConfigIssues } from '../config/issues.ts';
import { defaultName } from '../config/load.ts';
import { type ConfigSource, locate, parseConfigText } from '../config/source.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { parseParamFlag } from './params.ts';
import { METRIC_PATTERN, sweepFileSchema } from './schema.ts';
import type { EarlyTerminate, ParamSpec, SweepSpec } from './types.ts';

/** Flags of `mtl sweep` that shape the spec. */
export interface SweepFlags {
  param?: string[];
  set?: string[];
  seeds?: number;
  method?: 'grid' | 'random';
  samples?: number;
  metric?: string;
  name?: string;
  epochs?: number;
  limit?: number;
  prune?: 'asha' | 'median';
  attempts?: number;
}

/** A sweep file or a base config plus --param flags → the spec. */
/** `checkBase`: a new sweep's base config must be there (a finished sweep's folder reads without it). */
export function loadSweepSpec(file: string, flags: SweepFlags = {}, checkBase = false): SweepSpec {
  const source = parseConfigText(readText(file), file);
  const spec = 'sweep' in source.data ? fromSweepFile(source, checkBase) : fromShorthand(file, flags);
  applyFlags(spec, flags);
  if (Object.keys(spec.parameters).length === 0) {
    throw new UsageError(`${file}: nothing to sweep: give parameters (--param key=v1,v2) or a sweep: file`);
  }
  return spec;
}

function fromSweepFile(source: ConfigSource, checkBase: boolean): SweepSpec {
  const parsed = sweepFileSchema.safeParse(source.data);
  if (!parsed.success) {
    const issues = toConfigIssues(parsed.error.issues, {
      schema: sweepFileSchema,
      data: source.data,
      source,
      overrides: [],
    });
    throw new ConfigError(issues, `invalid sweep file ${source.file}`);
  }
  const s = parsed.data.sweep;
  const base = resolve(dirname(source.file), s.base);
  // A base that is not there is the sweep file's error, at the line that names it.
  const st = checkBase ? statSync(base, { throwIfNoEntry: false }) : null;
  if (checkBase && !st?.isFile()) {
    const why = st ? 'it is a directory' : 'no such file';
    throw new ConfigError(
      [
        {
          path: 'sweep.base',
          message: `cannot read the base config ${base}: ${why}`,
          location: locate(source, ['sweep', 'base']),
        },
      ],
      `invalid sweep file ${source.file}`,
    );
  }
  return {
    name: s.name ?? `${defaultName(source.file)}`,
    base,
    method: s.method,
    samples: s.samples,
    seed: s.seed,
    seeds: s.seeds,
    metric: s.metric,
    parameters: s.parameters as Record<string, ParamSpec>,
    set: s.set,
    earlyTerminate: s.earlyTerminate as EarlyTerminate | null,
    attempts: s.attempts,
  };
}

function fromShorthand(file: string, flags: SweepFlags): SweepSpec {
  if (!flags.param?.length) {
    throw new UsageError(
      `${file} is an experiment config, not a sweep file (no top-level 'sweep:'): add --param key=v1,v2 to sweep it`,
    );
  }
  return {
    name: `${defaultName(file)}-sweep`,
    base: resolve(file),
    method: 'grid',
    samples: 10,
    seed: 0,
    seeds: 1,
    metric: 'val.accuracy',
    parameters: {},
    set: [],
    earlyTerminate: null,
    attempts: 3,
  };
}

function applyFlags(spec: SweepSpec, f: SweepFlags): void {
  for (const arg of f.param ?? []) {
    const { key, spec: param } = parseParamFlag(arg);
    spec.parameters[key] = param;
  }
  spec.set.push(...(f.set ?? []));
  if (f.epochs !== undefined) spec.set.push(`trainer.epochs=${f.epochs}`);
  if (f.limit !== undefined) spec.set.push(`data.limit=${f.limit}`);
  if (f.seeds !== undefined) spec.seeds = f.seeds;
  if (f.method !== undefined) spec.method = f.method;
  if (f.samples !== undefined) spec.samples = f.samples;
  if (f.name !== undefined) spec.name = f.name;
  if (f.attempts !== undefined) spec.attempts = f.attempts;
  if (f.metric !== undefined) {
    if (!METRIC_PATTERN.test(f.metric)) {
      throw new UsageError(`--metric ${f.metric}: expected val.loss | val.accuracy | val.macroF1 (never test)`);
    }
    spec.metric = f.metric;
  }
  if (f.prune === 'asha') spec.earlyTerminate = { type: 'asha', minEpochs: 1, eta: 3 };
  if (f.prune === 'median') spec.earlyTerminate = { type: 'median', minEpochs: 1, minTrials: 5 };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code;
    throw new ConfigError([{ path: '', message: `cannot read ${file}: ${reason}`, location: file }], 'cannot load');
  }
}
