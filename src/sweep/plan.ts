// Draws the whole plan up front: points (grid or seeded random) × training seeds, each resolved
// through the same loader as `mtl train --set … --seed …`, so a trial is exactly that command.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { loadConfigText } from '../config/load.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { canonicalJson, hashConfig } from '../runs/run-record.ts';
import { gridPoints, type Point, randomPoints } from './params.ts';
import type { PlannedTrial, SweepSpec } from './types.ts';

/** A sweep larger than this is almost certainly a typo in a grid (it would take weeks here). */
export const MAX_TRIALS = 10000;

export interface Plan {
  trials: PlannedTrial[];
  points: Point[];
}

export function planSweep(spec: SweepSpec): Plan {
  const points = dedupe(
    spec.method === 'grid' ? gridPoints(spec.parameters) : randomPoints(spec.parameters, spec.samples, spec.seed),
  );
  if (points.length * spec.seeds > MAX_TRIALS) {
    throw new UsageError(`the sweep has ${points.length} points × ${spec.seeds} seeds, more than ${MAX_TRIALS} trials`);
  }
  const baseText = readBase(spec.base);
  const label = relative(process.cwd(), spec.base) || spec.base;
  const trials: PlannedTrial[] = [];
  const seen = new Set<string>();
  const errors: ConfigError[] = [];
  points.forEach((params, point) => {
    for (const trial of planPoint(spec, baseText, label, params, point, errors)) {
      // Two points that resolve to the same config (an int range rounding) are one trial.
      if (seen.has(trial.trialId)) continue;
      seen.add(trial.trialId);
      trials.push(trial);
    }
  });
  // One bad point fails alone; when none can run, the config itself is wrong: say so up front.
  if (errors.length === points.length) throw errors[0]!;
  return { trials, points };
}

function planPoint(
  spec: SweepSpec,
  baseText: string,
  file: string,
  params: Point,
  point: number,
  errors: ConfigError[],
): PlannedTrial[] {
  const overrides = [...spec.set, ...Object.entries(params).map(([k, v]) => `${k}=${JSON.stringify(v)}`)];
  let first: ResolvedConfig;
  try {
    first = loadConfigText(baseText, { file, overrides }).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(err);
    return seedsOf(spec, baseSeed(spec, baseText, file, params)).map((seed) => ({
      trialId: hashConfig({ base: spec.base, overrides, seed }),
      point,
      params,
      seed,
      config: null,
      error: err.message,
    }));
  }
  return seedsOf(spec, first.seed).map((seed) => {
    const config = seed === first.seed ? first : loadConfigText(baseText, { file, overrides, extra: { seed } }).config;
    return { trialId: hashConfig(config), point, params, seed, config };
  });
}

/** The seed a point's trials would start from when its config does not resolve: the base config's
 *  (with --set and the point's own `seed`, if it sets one), or null when even that fails. */
function baseSeed(spec: SweepSpec, baseText: string, file: string, params: Point): number | null {
  const seed = params.seed;
  const overrides = [...spec.set, ...(seed === undefined ? [] : [`seed=${JSON.stringify(seed)}`])];
  try {
    return loadConfigText(baseText, { file, overrides }).config.seed;
  } catch {
    return null;
  }
}

/** The base seed, +1, +2 … (seed 42 with seeds 3 → 42, 43, 44), as `mtl train --seeds` does. */
function seedsOf(spec: SweepSpec, base: number | null): number[] {
  return Array.from({ length: spec.seeds }, (_, i) => (base ?? 0) + i);
}

function dedupe(points: Point[]): Point[] {
  const seen = new Set<string>();
  return points.filter((p) => {
    const key = canonicalJson(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function readBase(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [{ path: 'sweep.base', message: `cannot read the base config ${file}: ${code}`, location: file }],
      'invalid sweep',
    );
  }
}
