// `--baseline FILE --fail-on-regression PCT`: read an earlier run's smaller_is_better.json,
// bigger_is_better.json or results.json, match metrics by name, and flag slowdowns beyond PCT.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../errors.ts';
import { reportMetrics } from './format.ts';
import type { BenchmarkEntry, BenchReport, Metric } from './types.ts';

export interface Comparison {
  name: string;
  unit: string;
  baseline: number;
  current: number;
  /** Positive = worse (slower, more memory, less accurate), in percent of the baseline. */
  worsePct: number;
  /** Whether the metric is a speed metric (only those can fail the run). */
  speed: boolean;
  regressed: boolean;
}

/** Baseline values by metric name, from any of the three files `--out` writes. */
export async function readBaseline(file: string): Promise<Map<string, number>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new InputError(`--baseline ${file}: cannot read it (${why})`);
  }
  return baselineValues(parsed, basename(file));
}

export function baselineValues(parsed: unknown, label: string): Map<string, number> {
  const entries: BenchmarkEntry[] = Array.isArray(parsed)
    ? (parsed as BenchmarkEntry[])
    : isReport(parsed)
      ? reportMetrics(parsed)
      : [];
  const values = new Map<string, number>();
  for (const e of entries) {
    if (typeof e?.name === 'string' && typeof e.value === 'number' && Number.isFinite(e.value))
      values.set(e.name, e.value);
  }
  if (values.size === 0) {
    throw new InputError(
      `--baseline ${label}: expected smaller_is_better.json, bigger_is_better.json or results.json from mtl bench --out; found no metrics in it`,
    );
  }
  return values;
}

function isReport(x: unknown): x is BenchReport {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray((x as BenchReport).workloads) &&
    Array.isArray((x as BenchReport).peers)
  );
}

/**
 * Compare current metrics with the baseline (only names present in both). A speed metric whose
 * worsening exceeds `failPct` is a regression; with failPct null nothing regresses (report only).
 */
export function compareWithBaseline(
  current: Metric[],
  baseline: Map<string, number>,
  failPct: number | null,
): Comparison[] {
  const out: Comparison[] = [];
  for (const m of current) {
    const base = baseline.get(m.name);
    if (base === undefined || base === 0) continue;
    const change = ((m.value - base) / Math.abs(base)) * 100;
    const worsePct = m.direction === 'smaller' ? change : -change;
    out.push({
      name: m.name,
      unit: m.unit,
      baseline: base,
      current: m.value,
      worsePct,
      speed: m.speed,
      regressed: failPct !== null && m.speed && worsePct > failPct,
    });
  }
  return out;
}

/** The workload part of a metric name (`mnist-mlp epoch time` → `mnist-mlp`), for the error message. */
export function workloadOf(metricName: string): string {
  return metricName.replace(/ (epoch time|throughput|wall time|peak RSS|test accuracy|time vs \S+)$/, '');
}
