// Reads the sweep's metric out of what a trial writes: a metrics.jsonl record (per epoch, for
// pruning) and its summary.json (the best epoch). Single-task runs keep `val` flat; multi-task runs
// keep it per task, and `val.accuracy` then means the mean over tasks.
import type { Direction } from './pruning.ts';
import type { MetricMap } from './types.ts';

export interface MetricRef {
  /** `loss`, `accuracy` or `macroF1`. */
  name: string;
  /** A multi-task run's task, or null for the (task-mean) value. */
  task: string | null;
  /** The key used in points' `val` ({accuracy: …} or {"left.accuracy": …}). */
  key: string;
  direction: Direction;
}

export function parseMetric(metric: string): MetricRef {
  const parts = metric.split('.');
  const name = parts.at(-1)!;
  const task = parts[0] === 'tasks' ? parts[1]! : null;
  return { name, task, key: task ? `${task}.${name}` : name, direction: name === 'loss' ? 'min' : 'max' };
}

type Bag = Record<string, unknown>;

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** Flat metrics of one split: as is for a single task; the mean over tasks for a multi-task run. */
function flatOrMean(split: unknown): MetricMap | null {
  if (!split || typeof split !== 'object') return null;
  const entries = Object.entries(split as Bag);
  if (entries.every(([, v]) => typeof v === 'number' || v === null)) return split as MetricMap;
  const tasks = entries.map(([, v]) => v).filter((v): v is Bag => !!v && typeof v === 'object');
  const keys = new Set(tasks.flatMap((t) => Object.keys(t)));
  const out: MetricMap = {};
  for (const k of keys) {
    const xs = tasks.map((t) => num(t[k])).filter((x): x is number => x !== null);
    if (xs.length === tasks.length) out[k] = xs.reduce((a, b) => a + b, 0) / xs.length;
  }
  return out;
}

/** The metric in one metrics.jsonl record, or null (no validation split, a missing task). */
export function epochMetric(record: Bag, ref: MetricRef): number | null {
  const val = record.val as Bag | null | undefined;
  if (!val) return null;
  if (ref.task) return num((val[ref.task] as Bag | undefined)?.[ref.name]);
  return num(flatOrMean(val)?.[ref.name]);
}

/** `val` and `test` of a run summary, flat (a multi-task run gives its task mean; tasks listed too). */
export function summaryMetrics(summary: Bag | null): { val: MetricMap | null; test: MetricMap | null } {
  if (!summary) return { val: null, test: null };
  if (summary.tasks && typeof summary.tasks === 'object') {
    const tasks = summary.tasks as Record<string, Bag>;
    const split = (s: 'val' | 'test'): MetricMap | null => {
      const per = Object.fromEntries(Object.entries(tasks).map(([t, r]) => [t, r[s] ?? null]));
      const mean = flatOrMean(per);
      if (!mean) return null;
      for (const [t, r] of Object.entries(per)) for (const [k, v] of Object.entries(r ?? {})) mean[`${t}.${k}`] = v;
      return mean;
    };
    return { val: split('val'), test: split('test') };
  }
  return { val: (summary.val as MetricMap | null) ?? null, test: (summary.test as MetricMap | null) ?? null };
}

/** The sweep metric of a finished trial (from its summary's `val`). */
export function trialMetric(val: MetricMap | null, ref: MetricRef): number | null {
  return val ? num(val[ref.key]) : null;
}

export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'max' ? a > b : a < b;
}
