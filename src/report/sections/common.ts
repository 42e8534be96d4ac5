// Facts every section states about a run (what ran, how it ended, where it is), and the small
// readings of config and summary the section builders share.
import type { LoadedRun } from '../load.ts';
import { fixed, num, pct } from '../spec.ts';
import type { JsonObject, Table } from '../types.ts';

/** The monitored validation metric drawn next to the loss (accuracy when the monitor is the loss). */
export function monitorMetric(run: LoadedRun): string {
  const monitor = String(get(run.config, 'trainer.monitor') ?? 'val.accuracy');
  const metric = monitor.replace(/^val\./, '');
  return metric === 'loss' ? 'accuracy' : metric;
}

/** summary.bestEpoch; null when the run has no summary yet or selected nothing (epoch 0). */
export function bestEpoch(run: LoadedRun): number | null {
  const best = num(run.summary?.bestEpoch);
  return best !== null && best > 0 ? best : null;
}

/** A dotted-path read of plain data: get(config, 'trainer.optimizer.lr'). */
export function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as JsonObject)[key];
  }
  return cur;
}

export function commandLine(run: LoadedRun): string {
  const argv = run.record?.argv;
  return Array.isArray(argv) && argv.length > 0 ? `mtl ${argv.join(' ')}` : '—';
}

/** The "what ran and how it ended" table of one run. */
export function runFactsTable(run: LoadedRun): Table {
  const r = run.record;
  const s = run.summary;
  const rows: string[][] = [
    ['run', run.id],
    ['kind', run.kind],
    ['status', String(r?.status ?? s?.status ?? '—') + (r?.error ? `: ${r.error}` : '')],
    ['command', commandLine(run)],
    ['started (UTC)', r?.startedAt ? r.startedAt.replace('T', ' ').slice(0, 19) : '—'],
    ['total time', seconds(num(get(s, 'timing.totalSeconds')))],
  ];
  const model = modelDescription(run.config);
  if (model) rows.push(['model', model]);
  const optimizer = get(run.config, 'trainer.optimizer.name');
  if (optimizer) rows.push(['optimizer', `${optimizer}, lr ${get(run.config, 'trainer.optimizer.lr')}`]);
  if (r?.seed !== undefined) rows.push(['seed', String(r.seed)]);
  const backend = (s?.backend ?? r?.backend) as JsonObject | undefined;
  if (backend?.name) rows.push(['backend', `${backend.name}${backend.gpu ? ' (GPU)' : ''}`]);
  rows.push(['folder', run.dir]);
  return { title: 'Run', header: ['', ''], rows };
}

/** Split metrics of a single-task run: validation at the best epoch, test with the best weights. */
export function splitMetricsTable(run: LoadedRun): Table | null {
  const val = run.summary?.val as JsonObject | null | undefined;
  const test = run.summary?.test as JsonObject | undefined;
  if (!val && !test) return null;
  const row = (name: string, m: JsonObject | null | undefined): string[] => [
    name,
    fixed(num(m?.loss)),
    pct(num(m?.accuracy)),
    fixed(num(m?.macroF1)),
    fixed(num(m?.aucRoc)),
  ];
  const best = bestEpoch(run);
  return {
    title: 'Metrics',
    header: ['split', 'loss', 'accuracy', 'macro-F1', 'AUC-ROC'],
    rows: [row(best ? `validation (best epoch ${best})` : 'validation', val), row('test', test)],
  };
}

/** Why a page may show less than a finished run would have. */
export function statusNotes(run: LoadedRun): string[] {
  const status = run.record?.status ?? run.summary?.status;
  const notes: string[] = [];
  if (status === 'running') notes.push('This run is still running: the page shows the epochs finished so far.');
  if (status === 'failed') notes.push(`This run failed${run.record?.error ? `: ${run.record.error}` : ''}.`);
  if (status === 'interrupted') notes.push('This run was interrupted: its results cover the epochs it finished.');
  return [...notes, ...run.problems.map((p) => `${p}.`)];
}

function modelDescription(config: JsonObject | null): string | null {
  const model = config?.model as JsonObject | undefined;
  if (!model?.type) return null;
  const hidden = Array.isArray(model.hidden) ? ` [${model.hidden.join(', ')}]` : '';
  const arch = get(config, 'multitask.architecture');
  const tasks = Array.isArray(config?.tasks) && config.tasks.length > 0 ? `, ${arch} multi-task` : '';
  return `${model.type}${hidden}${tasks}`;
}

function seconds(s: number | null): string {
  return s === null ? '—' : `${s.toFixed(1)} s`;
}
