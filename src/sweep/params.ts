// Search spaces as points: the `--param key=v1,v2` shorthand, grid expansion (every combination,
// first parameter slowest, as itertools.product) and seeded random draws (uniform or log-uniform).
import { parseDocument } from 'yaml';
import { UsageError } from '../errors.ts';
import { Rng } from '../random/rng.ts';
import type { ParamSpec, ParamValue } from './types.ts';

export type Point = Record<string, ParamValue>;

/**
 * `--param trainer.optimizer.lr=0.001,0.003` (values are YAML, split at top-level commas, so
 * `model.hidden=[128],[256,128]` is two values) or a range `lr=1e-4..1e-2[:log][:int][:STEPS]`.
 */
export function parseParamFlag(arg: string): { key: string; spec: ParamSpec } {
  const eq = arg.indexOf('=');
  const key = arg.slice(0, eq).trim();
  if (eq < 0 || key === '' || key.split('.').some((s) => s === '')) {
    throw new UsageError(`--param ${arg}: expected key=v1,v2,… or key=MIN..MAX[:log][:int][:STEPS]`);
  }
  const text = arg.slice(eq + 1).trim();
  const range = /^(-?[\d.e+-]+)\.\.(-?[\d.e+-]+)((?::(?:log|int|\d+))*)$/i.exec(text);
  if (range) return { key, spec: parseRange(arg, range) };
  const values = splitTopLevel(text).map((piece) => parseYamlValue(arg, piece));
  if (values.length === 0) throw new UsageError(`--param ${arg}: no values`);
  return { key, spec: { kind: 'values', values } };
}

function parseRange(arg: string, m: RegExpExecArray): ParamSpec {
  const [min, max] = [Number(m[1]), Number(m[2])];
  const opts = (m[3] ?? '').split(':').filter(Boolean);
  const steps = opts.find((o) => /^\d+$/.test(o));
  const spec: ParamSpec = {
    kind: 'range',
    min,
    max,
    log: opts.includes('log'),
    int: opts.includes('int'),
    steps: steps === undefined ? null : Number(steps),
  };
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) {
    throw new UsageError(`--param ${arg}: a range needs two numbers MIN..MAX with MAX > MIN`);
  }
  if (spec.log && min <= 0) throw new UsageError(`--param ${arg}: a log range needs MIN > 0`);
  if (spec.steps !== null && spec.steps < 2) throw new UsageError(`--param ${arg}: STEPS must be ≥ 2`);
  return spec;
}

function parseYamlValue(arg: string, piece: string): ParamValue {
  const doc = parseDocument(piece, { prettyErrors: false });
  if (doc.errors.length > 0) throw new UsageError(`--param ${arg}: cannot parse '${piece}' as YAML`);
  return doc.toJS();
}

/** Splits at commas that are not inside [], {} or quotes. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((p) => p !== '');
}

/** The grid values of one parameter; a range needs `steps` (evenly or geometrically spaced). */
export function gridValues(key: string, spec: ParamSpec): ParamValue[] {
  if (spec.kind === 'values') return spec.values;
  if (spec.steps === null) {
    throw new UsageError(`${key}: a range in a grid needs steps (or use method random with samples)`);
  }
  const out: number[] = [];
  for (let i = 0; i < spec.steps; i++) {
    const t = i / (spec.steps - 1);
    const x = spec.log
      ? Math.exp(Math.log(spec.min) + t * (Math.log(spec.max) - Math.log(spec.min)))
      : spec.min + t * (spec.max - spec.min);
    const v = spec.int ? Math.round(x) : roundSignificant(x);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** 12 significant digits: 0.1 + 2·0.45 should read 1, not 1.0000000000000002. */
function roundSignificant(x: number, digits = 12): number {
  return Number(x.toPrecision(digits));
}

/** Random draws keep 6 significant digits: lr=0.000575315 reads (and resolves) better than 17. */
const DRAW_DIGITS = 6;

/** Every combination, the first parameter varying slowest. */
export function gridPoints(parameters: Record<string, ParamSpec>): Point[] {
  let points: Point[] = [{}];
  for (const [key, spec] of Object.entries(parameters)) {
    const values = gridValues(key, spec);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

/** `samples` points drawn with the sweep's own seed; each parameter independently. */
export function randomPoints(parameters: Record<string, ParamSpec>, samples: number, seed: number): Point[] {
  const rng = new Rng(seed);
  const points: Point[] = [];
  for (let i = 0; i < samples; i++) {
    const p: Point = {};
    for (const [key, spec] of Object.entries(parameters)) p[key] = drawValue(spec, rng);
    points.push(p);
  }
  return points;
}

export function drawValue(spec: ParamSpec, rng: Rng): ParamValue {
  if (spec.kind === 'values') return spec.values[rng.int(spec.values.length)];
  const u = rng.next();
  if (spec.log) {
    const x = Math.exp(Math.log(spec.min) + u * (Math.log(spec.max) - Math.log(spec.min)));
    return spec.int ? Math.round(x) : roundSignificant(x, DRAW_DIGITS);
  }
  // Integers: each of min..max equally likely (the +1 makes max reachable).
  if (spec.int) return Math.min(spec.max, Math.floor(spec.min + u * (spec.max - spec.min + 1)));
  return roundSignificant(spec.min + u * (spec.max - spec.min), DRAW_DIGITS);
}
