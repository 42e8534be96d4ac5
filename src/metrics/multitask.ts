// Multi-task vs single-task comparison (Δm) in the two conventions found in the literature; they
// differ in sign and in how metrics are averaged, so each function states its convention.

import { InputError } from '../errors.ts';

/** One metric of one task, measured on the multi-task model and on its single-task baseline. */
export interface TaskMetricEntry {
  task: string;
  /** e.g. `accuracy`, `loss`. */
  metric: string;
  /** Multi-task model's value. */
  value: number;
  /** Single-task baseline's value (must be non-zero: Δm divides by it). */
  baseline: number;
  higherIsBetter: boolean;
}

/**
 * Maninis et al. 2019 ("Attentive Single-Tasking of Multiple Tasks"), also Vandenhende et al.'s
 * survey: Δm = (1/T) Σ_i (−1)^{l_i} (M_mt,i − M_st,i) / M_st,i × 100, l_i = 1 if higher is better.
 * It is an average performance DROP: positive = the multi-task model is worse, lower is better.
 * The sum runs over all entries (the paper has one metric per task, where T = number of tasks).
 */
export function performanceDropPct(entries: TaskMetricEntry[]): number {
  checkEntries(entries);
  const total = entries.reduce((acc, e) => {
    const sign = e.higherIsBetter ? -1 : 1;
    return acc + (sign * (e.value - e.baseline)) / e.baseline;
  }, 0);
  return (total / entries.length) * 100;
}

/**
 * LibMTL's task-balanced Δp: (1/T) Σ_t (1/N_t) Σ_i (−1)^{s_t,i} (M_t,i − B_t,i) / B_t,i × 100,
 * s = 0 if higher is better, 1 otherwise. It is an IMPROVEMENT: positive = multi-task is better.
 * Metrics are averaged within each task first, so a task with many metrics does not dominate.
 */
export function deltaPPct(entries: TaskMetricEntry[]): number {
  checkEntries(entries);
  const byTask = new Map<string, number[]>();
  for (const e of entries) {
    const sign = e.higherIsBetter ? 1 : -1;
    const rel = (sign * (e.value - e.baseline)) / e.baseline;
    const list = byTask.get(e.task) ?? [];
    list.push(rel);
    byTask.set(e.task, list);
  }
  let total = 0;
  for (const rels of byTask.values()) total += rels.reduce((a, b) => a + b, 0) / rels.length;
  return (total / byTask.size) * 100;
}

function checkEntries(entries: TaskMetricEntry[]): void {
  if (entries.length === 0) throw new InputError('Δm needs at least one task metric');
  for (const e of entries) {
    if (e.baseline === 0 || !Number.isFinite(e.baseline)) {
      throw new InputError(
        `Δm: baseline ${e.task}.${e.metric} is ${e.baseline}; a relative change needs a finite non-zero baseline`,
      );
    }
  }
}
