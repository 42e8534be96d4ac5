// summary.json of a sweep (issue 13, item 5): every trial, each point's mean ± std over its seeds,
// and the best point by the validation metric (test is reported, never used to choose).
import { type MeanStd, meanStd, summarizeSeconds } from '../metrics/report.ts';
import { canonicalJson } from '../runs/run-record.ts';
import { isBetter, parseMetric, summaryMetrics, trialMetric } from './metric.ts';
import type {
  PlannedTrial,
  SweepPoint,
  SweepStatus,
  SweepSummary,
  SweepTrialSummary,
  TrialOverhead,
  TrialResult,
  TrialStatus,
} from './types.ts';

export interface SummaryInput {
  runId: string;
  runDir: string;
  method: 'grid' | 'random';
  metric: string;
  plan: readonly PlannedTrial[];
  /** The final result of each trial that ended, by trial id (one per trial, however often delivered). */
  results: ReadonlyMap<string, TrialResult>;
  /** Trials started and not ended (local runner, or active jobs). */
  running?: ReadonlySet<string>;
  /** What is neither running nor ended: `planned` (local) or `queued` (on a queue). */
  pending: 'planned' | 'queued';
  status: SweepStatus;
  startedAt: string;
  endedAt: string | null;
  queue?: { url: string; name: string };
}

export function buildSummary(input: SummaryInput): SweepSummary {
  const trials = input.plan.map((t) => trialSummary(t, input));
  const points = buildPoints(trials, input.metric);
  const ref = parseMetric(input.metric);
  let best: SweepPoint | null = null;
  for (const p of points) {
    const v = p.val?.[ref.key]?.mean;
    const b = best?.val?.[ref.key]?.mean;
    if (v !== undefined && (b === undefined || isBetter(v, b, ref.direction))) best = p;
  }
  const counts = countStatuses(trials);
  const trialSeconds = [...input.results.values()].reduce((a, r) => a + r.seconds, 0);
  const end = input.endedAt ? Date.parse(input.endedAt) : Date.now();
  return {
    runId: input.runId,
    runDir: input.runDir,
    kind: 'sweep',
    status: input.status,
    metric: input.metric,
    method: input.method,
    trials,
    points,
    best: best?.val ? { params: best.params, val: best.val, test: best.test } : null,
    counts,
    timing: {
      startedAt: input.startedAt,
      endedAt: input.endedAt,
      totalSeconds: Math.round((end - Date.parse(input.startedAt)) / 10) / 100,
      trialSeconds: Math.round(trialSeconds * 100) / 100,
      perTrial: trialOverhead(input.results.values()),
    },
    ...(input.queue ? { queue: input.queue } : {}),
  };
}

/** TrialOverhead over the trials that ran to a summary (completed or pruned), or null for none. */
export function trialOverhead(results: Iterable<TrialResult>): TrialOverhead | null {
  const seconds: number[] = [];
  const start: number[] = [];
  const data: number[] = [];
  for (const r of results) {
    const timing = r.summary?.timing as { totalSeconds?: unknown; dataSeconds?: unknown } | undefined;
    if (r.status === 'failed' || typeof timing?.totalSeconds !== 'number') continue;
    seconds.push(r.seconds);
    start.push(Math.max(0, r.seconds - timing.totalSeconds));
    if (typeof timing.dataSeconds === 'number') data.push(timing.dataSeconds);
  }
  if (seconds.length === 0) return null;
  const rounded = (xs: number[]) => {
    const s = summarizeSeconds(xs);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return { median: r(s.median), min: r(s.min), max: r(s.max) };
  };
  return {
    trials: seconds.length,
    seconds: rounded(seconds),
    startSeconds: rounded(start),
    dataSeconds: data.length > 0 ? rounded(data) : null,
  };
}

function trialSummary(t: PlannedTrial, input: SummaryInput): SweepTrialSummary {
  const r = input.results.get(t.trialId);
  const base = { trialId: t.trialId, params: t.params, seed: t.seed };
  if (!r) {
    if (t.config === null) {
      return { ...base, runId: null, status: 'failed', val: null, test: null, epochs: null, error: t.error };
    }
    const status: TrialStatus = input.running?.has(t.trialId) ? 'running' : input.pending;
    return { ...base, runId: null, status, val: null, test: null, epochs: null };
  }
  const { val, test } = summaryMetrics(r.summary);
  const epochs = typeof r.summary?.epochs === 'number' ? r.summary.epochs : r.history.length || null;
  const out: SweepTrialSummary = {
    ...base,
    runId: r.runId,
    status: r.status,
    val,
    test,
    epochs,
    runDir: r.runDir,
    host: r.host,
  };
  if (r.error) out.error = r.error;
  if (r.pruned) out.pruned = r.pruned;
  return out;
}

/** Points in plan order; stats over completed trials only (a pruned trial's numbers are partial). */
function buildPoints(trials: readonly SweepTrialSummary[], metric: string): SweepPoint[] {
  const ref = parseMetric(metric);
  const byPoint = new Map<string, SweepTrialSummary[]>();
  for (const t of trials) {
    const key = canonicalJson(t.params);
    byPoint.set(key, [...(byPoint.get(key) ?? []), t]);
  }
  return [...byPoint.values()].map((group) => {
    const done = group.filter((t) => t.status === 'completed');
    const vals = done.map((t) => trialMetric(t.val, ref)).filter((x): x is number => x !== null);
    const tests = done.map((t) => t.test?.accuracy).filter((x): x is number => typeof x === 'number');
    return {
      params: group[0]!.params,
      seeds: group.map((t) => t.seed),
      val: vals.length > 0 ? { [ref.key]: meanStd(vals) as MeanStd } : null,
      test: tests.length > 0 ? { accuracy: meanStd(tests) } : null,
      completed: done.length,
      pruned: group.filter((t) => t.status === 'pruned').length,
      trialIds: group.map((t) => t.trialId),
    };
  });
}

export function countStatuses(trials: readonly { status: TrialStatus }[]): Record<TrialStatus, number> {
  const counts: Record<TrialStatus, number> = {
    planned: 0,
    queued: 0,
    running: 0,
    completed: 0,
    pruned: 0,
    failed: 0,
  };
  for (const t of trials) counts[t.status]++;
  return counts;
}

/** Points sorted best first by the metric's mean (points without a value last). */
export function rankPoints(points: readonly SweepPoint[], metric: string): SweepPoint[] {
  const ref = parseMetric(metric);
  const value = (p: SweepPoint): number | undefined => p.val?.[ref.key]?.mean;
  return [...points].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === undefined) return y === undefined ? 0 : 1;
    if (y === undefined) return -1;
    return ref.direction === 'max' ? y - x : x - y;
  });
}
