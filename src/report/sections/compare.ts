// The first section of a report on several runs: the config keys that differ, the metrics side by
// side, learning curves overlaid (seeds of one config as mean ± std), and test accuracy per run.

import { meanStd } from '../../metrics/report.ts';
import { canonicalJson } from '../../runs/run-record.ts';
import { type CurveSeries, curveCharts } from '../charts/curves.ts';
import { type CompareRow, type Comparison, compareRuns, formatCell } from '../compare.ts';
import type { LoadedRun } from '../load.ts';
import { kindLayer, makeChart, num, spreadLayer } from '../spec.ts';
import type { Chart, Row, Section, Table } from '../types.ts';
import { bestEpoch, get, monitorMetric } from './common.ts';

/** Legend labels longer than this fall back to the run id. */
const MAX_LABEL = 48;

export function comparisonSections(runs: LoadedRun[]): Section[] {
  const cmp = compareRuns(runs);
  const single = runs.filter((r) => r.kind === 'pretrain' || r.kind === 'finetune');
  const charts: Chart[] = [];
  if (single.length > 1) {
    const groups = groupRuns(
      single,
      cmp.config.map((r) => r.key),
    );
    const series: CurveSeries[] = groups.map((g) => ({
      label: g.label,
      runs: g.runs.map((r) => ({ history: r.history, bestEpoch: bestEpoch(r) })),
    }));
    charts.push(...curveCharts(series, 'compare-curves', monitorMetric(single[0]!)));
    const bar = accuracyChart(groups);
    if (bar) charts.push(bar);
  }
  const missing =
    single.length < 2
      ? [
          'Curves are overlaid for training runs only; transfer, multi-task and sweep runs have their own sections below.',
        ]
      : [];
  const subtitle = `${runs.length} runs`;
  return [
    { id: 'compare', title: 'Comparison', subtitle, notes: [], missing, tables: comparisonTables(cmp, runs), charts },
  ];
}

function comparisonTables(cmp: Comparison, runs: LoadedRun[]): Table[] {
  const header = ['', ...runs.map((r) => r.id)];
  const cells = (rows: CompareRow[]) => rows.map((r) => [r.key, ...r.values.map((v) => formatCell(v, r.format))]);
  const differ = cmp.config.length > 0;
  return [
    {
      title: differ
        ? `Config keys that differ (${cmp.sameKeys} others are equal)`
        : `Configs are identical (${cmp.sameKeys} keys)`,
      header,
      rows: cells(cmp.config),
    },
    { title: 'Metrics', header, rows: cells(cmp.metrics) },
  ];
}

/**
 * One series per run, except that runs whose configs differ only in `seed` form one series (their
 * mean ± std). A series is labelled by the differing keys when that is short and unique.
 */
interface Group {
  label: string;
  runs: LoadedRun[];
}

function groupRuns(runs: LoadedRun[], differing: string[]): Group[] {
  const groups = new Map<string, LoadedRun[]>();
  for (const run of runs) {
    const { seed: _, name: __, ...rest } = (run.config ?? {}) as Record<string, unknown>;
    const key = run.config ? canonicalJson(rest) : run.id;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const keys = differing.filter((k) => k !== 'seed' && k !== 'name');
  const labels = [...groups.values()].map((g) => label(g, keys));
  const unique = new Set(labels).size === labels.length && labels.every((l) => l.length <= MAX_LABEL && l !== '');
  return [...groups.values()].map((g, i) => ({
    label: (unique ? labels[i]! : g[0]!.id) + (g.length > 1 ? ` (${g.length} seeds)` : ''),
    runs: g,
  }));
}

function label(group: LoadedRun[], keys: string[]): string {
  const flat = (group[0]!.config ?? {}) as Record<string, unknown>;
  return keys
    .map((k) => {
      const v = k
        .split('.')
        .reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), flat);
      return `${k.split('.').at(-1)}=${Array.isArray(v) ? JSON.stringify(v) : String(v)}`;
    })
    .join(' ');
}

/** Test accuracy of each series (mean ± std over its seeds, each seed a dot). */
function accuracyChart(groups: Group[]): Chart | null {
  const rows: Row[] = groups.flatMap((g) => {
    const accs = g.runs.map((r) => num(get(r.summary, 'test.accuracy'))).filter((v): v is number => v !== null);
    if (accs.length === 0) return [];
    const m = meanStd(accs);
    const seeds = accs.length > 1 ? accs.map((accuracy) => ({ run: g.label, kind: 'seed', accuracy, std: null })) : [];
    return [{ run: g.label, kind: 'mean', accuracy: m.mean, std: m.std }, ...seeds];
  });
  if (rows.length === 0) return null;
  const order = groups.map((g) => g.label);
  const x = { field: 'run', type: 'nominal', sort: order, title: null, axis: { labelAngle: -20, labelLimit: 200 } };
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'test accuracy',
    scale: { zero: false },
    axis: { format: '.1%' },
  };
  const color = { field: 'run', type: 'nominal', legend: null, sort: order };
  const layers = [
    ...kindLayer(rows, 'mean', { type: 'point', shape: 'diamond', filled: true, size: 120 }, { x, y, color }),
    ...spreadLayer(rows, { kind: 'mean', x, value: 'accuracy', spread: 'std', color: '#333' }),
    ...kindLayer(rows, 'seed', { type: 'point', size: 20, color: '#333' }, { x, y }),
  ];
  const caption =
    'Test accuracy of each run with the weights of its best epoch; runs that differ only in seed are one entry (mean ± std, each seed a dot).';
  const title = 'Test accuracy by run';
  return makeChart({ id: 'compare-test-accuracy', family: 'compare', title, caption, rows, view: { layer: layers } });
}
