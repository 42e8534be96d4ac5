// The sections of a sweep folder (summary.json of kind "sweep", events.jsonl): the best point and
// every point with mean ± std, the metric against each parameter, parallel coordinates, and what
// early termination did.

import { parallelCoordinatesChart } from '../charts/parallel.ts';
import {
  metricVsParamChart,
  type PruneView,
  pruningChart,
  type SweepPointView,
  type SweepTrialView,
  trialCurvesChart,
} from '../charts/sweep.ts';
import { type LoadedRun, loadIfRun, loadSibling } from '../load.ts';
import { num, slug } from '../spec.ts';
import type { Chart, JsonObject, MeanStdJson, Row, Section, Table } from '../types.ts';
import { get, runFactsTable, statusNotes } from './common.ts';

interface TrialJson {
  trialId: string;
  runId?: string | null;
  runDir?: string | null;
  params?: JsonObject;
  status?: string;
  val?: Record<string, number> | null;
  epochs?: number | null;
  pruned?: JsonObject;
}

interface PointJson {
  params?: JsonObject;
  seeds?: number[];
  val?: Record<string, MeanStdJson> | null;
  test?: { accuracy?: MeanStdJson } | null;
}

export async function sweepSections(run: LoadedRun): Promise<Section[]> {
  const prefix = slug(run.id);
  const metric = String(run.summary?.metric ?? 'val.accuracy');
  const trialsJson = (run.summary?.trials ?? []) as TrialJson[];
  const pointsJson = (run.summary?.points ?? []) as PointJson[];
  const tables = [runFactsTable(run), bestTable(run, metric), pointsTable(pointsJson, metric)];
  const summary = {
    id: `${prefix}-summary`,
    title: 'Sweep summary',
    subtitle: run.id,
    notes: statusNotes(run),
    missing: [],
    tables,
    charts: [],
  };
  const { charts, missing } = await resultCharts(run, trialsJson, pointsJson, metric, prefix);
  return [summary, { id: `${prefix}-results`, title: 'Sweep results', notes: [], missing, tables: [], charts }];
}

async function resultCharts(
  run: LoadedRun,
  trialsJson: TrialJson[],
  pointsJson: PointJson[],
  metric: string,
  prefix: string,
) {
  const trials = trialsJson.map((t) => trialView(t, metric));
  const points = pointsJson.map((p) => pointView(p, metric));
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const charts: Chart[] = params.map((p) =>
    metricVsParamChart(p, trials, points, metric, `${prefix}-param-${slug(p)}`),
  );
  const missing: string[] = [];
  if (params.length > 0 && trials.some((t) => t.metric !== null))
    charts.push(parallelCoordinatesChart(params, trials, metric, `${prefix}-parallel`));
  else missing.push('No completed trial yet: nothing to draw against the parameters.');
  const decisions = pruneDecisions(run, trialsJson);
  const curves = await trialCurves(run, trialsJson, metric);
  const rungs = [...new Set(decisions.map((d) => d.epoch))].sort((a, b) => a - b);
  if (curves.length > 0) charts.push(trialCurvesChart(curves, rungs, metric, `${prefix}-trial-curves`));
  if (decisions.length > 0) charts.push(pruningChart(decisions, metric, `${prefix}-pruning`));
  else
    missing.push(
      'No early-termination decisions recorded (the sweep ran without ASHA or median pruning, or none was due).',
    );
  return { charts, missing };
}

/** The key of the selection metric inside a trial's `val` map: `val.accuracy` → `accuracy`. */
function metricKey(metric: string): string {
  return metric.split('.').at(-1)!;
}

export function lowerIsBetter(metric: string): boolean {
  return /loss/i.test(metricKey(metric));
}

function paramValue(v: unknown): number | string {
  return typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v);
}

function paramsView(params: JsonObject | undefined): Record<string, number | string> {
  return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, paramValue(v)]));
}

function trialView(t: TrialJson, metric: string): SweepTrialView {
  const value = num(t.val?.[metric]) ?? num(t.val?.[metricKey(metric)]);
  return {
    trialId: t.trialId,
    status: t.status ?? 'unknown',
    params: paramsView(t.params),
    metric: value,
    epochs: num(t.epochs),
  };
}

function pointView(p: PointJson, metric: string): SweepPointView {
  const m = p.val?.[metric] ?? p.val?.[metricKey(metric)];
  return { params: paramsView(p.params), mean: num(m?.mean), std: num(m?.std), seeds: p.seeds?.length ?? 0 };
}

function meanStd(m: MeanStdJson | undefined | null, digits = 4): string {
  if (!m || num(m.mean) === null) return '—';
  return `${m.mean.toFixed(digits)} ± ${(num(m.std) ?? 0).toFixed(digits)}`;
}

function bestTable(run: LoadedRun, metric: string): Table {
  const s = run.summary;
  const best = s?.best as {
    params?: JsonObject;
    val?: Record<string, MeanStdJson>;
    test?: { accuracy?: MeanStdJson } | null;
  } | null;
  const counts = (s?.counts ?? {}) as Record<string, number>;
  const rows = [
    ['method', String(s?.method ?? '—')],
    ['selection metric', `${metric} (${lowerIsBetter(metric) ? 'lower' : 'higher'} is better; validation only)`],
    [
      'trials',
      Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || String(((s?.trials as unknown[]) ?? []).length),
    ],
    [
      'best parameters',
      best?.params
        ? Object.entries(best.params)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(', ')
        : '—',
    ],
    [`best ${metric}`, meanStd(best?.val?.[metric] ?? best?.val?.[metricKey(metric)])],
    ['its test accuracy', meanStd(best?.test?.accuracy)],
  ];
  return { title: 'Best point', header: ['', ''], rows };
}

function pointsTable(points: PointJson[], metric: string): Table {
  const params = [...new Set(points.flatMap((p) => Object.keys(p.params ?? {})))];
  const value = (p: PointJson): number => num((p.val?.[metric] ?? p.val?.[metricKey(metric)])?.mean) ?? Number.NaN;
  const sign = lowerIsBetter(metric) ? 1 : -1;
  const sorted = [...points].sort((a, b) =>
    Number.isNaN(value(a)) ? 1 : Number.isNaN(value(b)) ? -1 : sign * (value(a) - value(b)),
  );
  return {
    title: `Points, best first (${metric} mean ± std over seeds)`,
    header: [...params, 'seeds', metric, 'test accuracy'],
    rows: sorted.map((p) => [
      ...params.map((k) => String(paramValue(p.params?.[k]))),
      String(p.seeds?.length ?? 0),
      meanStd(p.val?.[metric] ?? p.val?.[metricKey(metric)]),
      meanStd(p.test?.accuracy),
    ]),
  };
}

/** Decisions from events.jsonl (`prune` / `rung` events, `type` or `event` naming them), else from the trials' `pruned`. */
function pruneDecisions(run: LoadedRun, trials: TrialJson[]): PruneView[] {
  const fromEvents = run.events.filter((e) => ['prune', 'rung'].includes(String(e.type ?? e.event)));
  const source: JsonObject[] =
    fromEvents.length > 0 ? fromEvents : trials.flatMap((t) => (t.pruned ? [{ ...t.pruned, trialId: t.trialId }] : []));
  return source.flatMap((e) => {
    const d = (e.decision as JsonObject | undefined) ?? e;
    const epoch = num(d.epoch) ?? num(d.rung);
    const value = num(d.value);
    if (epoch === null || value === null) return [];
    const stop = d.action ? d.action === 'stop' : String(e.type ?? e.event) === 'prune';
    const rank = num(d.rank) !== null ? `${d.rank}${num(d.of) !== null ? ` of ${d.of}` : ''}` : '';
    return [
      {
        trialId: String(e.trialId ?? ''),
        epoch,
        value,
        cutoff: num(d.cutoff),
        action: stop ? 'stop' : 'continue',
        rank,
      },
    ];
  });
}

/** Validation metric per epoch of each trial whose run folder sits next to the sweep folder. */
async function trialCurves(run: LoadedRun, trials: TrialJson[], metric: string): Promise<Row[]> {
  // `tasks.<task>.val.<m>` reads that task's validation metric; `val.<m>` a single-task one.
  const parts = metric.split('.');
  const key = parts[0] === 'tasks' && parts.length >= 4 ? `${parts[1]}.${metricKey(metric)}` : metricKey(metric);
  const rows: Row[] = [];
  for (const t of trials) {
    if (!t.runId) continue;
    // Where the trial recorded its folder, else next to the sweep folder (a shared runs dir moved as a whole).
    const trialRun = (t.runDir ? await loadIfRun(t.runDir) : null) ?? (await loadSibling(run, t.runId));
    for (const e of trialRun?.history ?? []) {
      const value = num(get(e.val, key));
      if (value !== null) rows.push({ trialId: t.trialId, status: t.status ?? 'unknown', epoch: e.epoch, value });
    }
  }
  return rows;
}
