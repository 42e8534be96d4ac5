// Runs side by side (`mtl runs compare`, and the comparison section of a report on several runs):
// the config keys whose values differ, and each kind of run's metrics in one table.
import type { LoadedRun } from './load.ts';
import { get } from './sections/common.ts';
import { num } from './spec.ts';
import type { JsonObject } from './types.ts';

export type ValueFormat = 'pct' | 'num' | 'int' | 'sec' | 'pp' | 'text';
export type Cell = string | number | null;

export interface CompareRow {
  key: string;
  format: ValueFormat;
  /** One per run, in the order given; null where the run has no such key. */
  values: Cell[];
  differs: boolean;
}

export interface Comparison {
  runs: Array<{ id: string; kind: string; status: string; dir: string }>;
  /** Config keys (dotted) that differ, or every key with `all`. */
  config: CompareRow[];
  /** How many config keys are equal in every run (not listed unless `all`). */
  sameKeys: number;
  metrics: CompareRow[];
}

interface Metric {
  key: string;
  format: ValueFormat;
  value: Cell;
}

export function compareRuns(runs: LoadedRun[], options: { all?: boolean } = {}): Comparison {
  const flat = runs.map((r) => flattenConfig(r.config ?? {}));
  const configRows = unionRows(
    flat.map((f) => Object.entries(f).map(([key, value]) => ({ key, format: 'text' as const, value }))),
  );
  const metrics = unionRows(runs.map(runMetrics));
  const differing = configRows.filter((r) => r.differs);
  return {
    runs: runs.map((r) => ({
      id: r.id,
      kind: r.kind,
      status: String(r.record?.status ?? r.summary?.status ?? 'unknown'),
      dir: r.dir,
    })),
    config: options.all ? configRows : differing,
    sameKeys: configRows.length - differing.length,
    metrics,
  };
}

/** Dotted keys → values; arrays of plain values stay one value (`model.hidden` = "[256,128]"). */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, Cell> = {}): Record<string, Cell> {
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    for (const [i, v] of value.entries()) flattenConfig(v, `${prefix}${i}.`, out);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, `${prefix}${k}.`, out);
  } else if (prefix !== '') {
    const key = prefix.slice(0, -1);
    out[key] = Array.isArray(value)
      ? JSON.stringify(value)
      : typeof value === 'boolean'
        ? String(value)
        : (value as Cell);
  }
  return out;
}

/** The metrics a run of each kind is judged by, in a stable order. */
export function runMetrics(run: LoadedRun): Metric[] {
  const s = run.summary;
  const m = (key: string, format: ValueFormat, value: unknown): Metric => ({
    key,
    format,
    value: format === 'text' ? (value === undefined || value === null ? null : String(value)) : num(value),
  });
  const common = [m('status', 'text', run.record?.status ?? s?.status), m('kind', 'text', run.kind)];
  const timing = [
    m('seconds per epoch (median)', 'sec', get(s, 'timing.epochSeconds.median')),
    m('total seconds', 'sec', get(s, 'timing.totalSeconds')),
  ];
  switch (run.kind) {
    case 'transfer':
      return [...common, ...transferMetrics(s, m), timing[1]!];
    case 'multitask':
      return [
        ...common,
        m('epochs', 'int', s?.epochs),
        m('best epoch', 'int', s?.bestEpoch),
        ...multitaskMetrics(s, m),
        ...timing,
      ];
    case 'sweep':
      return [...common, ...sweepMetrics(s, m)];
    default:
      return [
        ...common,
        m('epochs', 'int', s?.epochs ?? run.history.length),
        m('best epoch', 'int', s?.bestEpoch),
        m('val loss', 'num', get(s, 'val.loss')),
        m('val accuracy', 'pct', get(s, 'val.accuracy')),
        m('val macro-F1', 'num', get(s, 'val.macroF1')),
        m('test loss', 'num', get(s, 'test.loss')),
        m('test accuracy', 'pct', get(s, 'test.accuracy')),
        m('test macro-F1', 'num', get(s, 'test.macroF1')),
        m('test AUC-ROC', 'num', get(s, 'test.aucRoc')),
        ...timing,
      ];
  }
}

type MetricOf = (key: string, format: ValueFormat, value: unknown) => Metric;

function transferMetrics(s: JsonObject | null, m: MetricOf): Metric[] {
  const out = [m('source test accuracy', 'pct', get(s, 'source.test.accuracy'))];
  for (const strategy of Object.keys((s?.strategies ?? {}) as JsonObject)) {
    out.push(m(`${strategy} test accuracy`, 'pct', get(s, `strategies.${strategy}.test.accuracy.mean`)));
    const gain = num(get(s, `gain.${strategy}.mean`));
    if (gain !== null) out.push(m(`${strategy} gain vs reinit`, 'pp', gain * 100));
  }
  return out;
}

function multitaskMetrics(s: JsonObject | null, m: MetricOf): Metric[] {
  const out: Metric[] = [];
  for (const task of Object.keys((s?.tasks ?? {}) as JsonObject)) {
    out.push(m(`${task} val accuracy`, 'pct', get(s, `tasks.${task}.val.accuracy`)));
    out.push(m(`${task} test accuracy`, 'pct', get(s, `tasks.${task}.test.accuracy`)));
    out.push(m(`${task} test macro-F1`, 'num', get(s, `tasks.${task}.test.macroF1`)));
  }
  if (get(s, 'deltaM'))
    out.push(
      m('Δm drop % (lower is better)', 'num', get(s, 'deltaM.dropPct')),
      m('Δp % (higher is better)', 'num', get(s, 'deltaM.deltaPPct')),
    );
  return out;
}

function sweepMetrics(s: JsonObject | null, m: MetricOf): Metric[] {
  const metric = String(s?.metric ?? 'val.accuracy');
  const key = metric.split('.').at(-1)!;
  return [
    m('trials', 'int', ((s?.trials as unknown[]) ?? []).length),
    m(`best ${metric}`, 'num', get(s, `best.val.${key}.mean`) ?? get(s, `best.val.${metric}.mean`)),
    m('best test accuracy', 'pct', get(s, 'best.test.accuracy.mean')),
    m('best parameters', 'text', s?.best ? JSON.stringify((s.best as JsonObject).params) : null),
  ];
}

/** One row per key over all runs (in first-seen order); a run without the key gets null. */
function unionRows(perRun: Metric[][]): CompareRow[] {
  const rows = new Map<string, CompareRow>();
  perRun.forEach((metrics, i) => {
    for (const metric of metrics) {
      const row = rows.get(metric.key) ?? {
        key: metric.key,
        format: metric.format,
        values: perRun.map(() => null),
        differs: false,
      };
      row.values[i] = metric.value;
      rows.set(metric.key, row);
    }
  });
  for (const row of rows.values()) row.differs = new Set(row.values.map((v) => JSON.stringify(v))).size > 1;
  return [...rows.values()];
}

/** A cell as people read it: 97.65%, 0.0812, +1.20 pp, — for missing. */
export function formatCell(value: Cell, format: ValueFormat): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  switch (format) {
    case 'pct':
      return `${(value * 100).toFixed(2)}%`;
    case 'num':
      return value.toFixed(4);
    case 'sec':
      return value.toFixed(2);
    case 'pp':
      return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} pp`;
    default:
      return String(value);
  }
}
