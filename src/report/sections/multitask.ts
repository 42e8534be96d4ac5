// The sections of a multi-task run: tasks side by side (with Δm against single-task baselines when
// `--baselines` ran), per-task curves, task weights, gradient conflict, and each task's classes.
import { classificationCharts } from '../charts/classification.ts';
import { baselineChart, epochLinesChart } from '../charts/multitask.ts';
import { type LoadedRun, loadSibling } from '../load.ts';
import { fixed, num, pct, slug } from '../spec.ts';
import type { Chart, EpochRow, JsonObject, Row, Section, Table } from '../types.ts';
import { bestEpoch, get, runFactsTable, statusNotes } from './common.ts';
import { classificationEvidence } from './evidence.ts';

/** The weightings that measure task gradients (and so record cosine similarity). */
const GRADIENT_NOTE = 'gradient methods (pcgrad, mgda, cagrad, graddrop, gradnorm…)';

export async function multitaskSections(run: LoadedRun): Promise<Section[]> {
  const prefix = slug(run.id);
  const tasks = Object.keys((run.summary?.tasks ?? {}) as JsonObject);
  const names = tasks.length > 0 ? tasks : Object.keys(run.history[0]?.trainTasks ?? {});
  const baselines = await loadBaselines(run);
  const sections = [overviewSection(run, prefix), await tasksSection(run, names, baselines, prefix)];
  for (const task of names) {
    const evidence = classificationEvidence(run, task);
    sections.push({
      id: `${prefix}-classes-${slug(task)}`,
      title: `Test split, class by class: ${task}`,
      notes: [],
      missing: evidence.missing,
      tables: [],
      charts: evidence.input ? classificationCharts(evidence.input, `${prefix}-${slug(task)}`, ` (${task})`) : [],
    });
  }
  return sections;
}

function overviewSection(run: LoadedRun, prefix: string): Section {
  const s = run.summary;
  const notes = statusNotes(run);
  const mt = s?.multitask as JsonObject | undefined;
  if (mt)
    notes.push(`Architecture ${mt.architecture}, weighting ${mt.weighting}, loss normalisation ${mt.normalizeLosses}.`);
  const drop = num(get(s, 'deltaM.dropPct'));
  const gain = num(get(s, 'deltaM.deltaPPct'));
  if (drop !== null && gain !== null) {
    notes.push(
      `Δm (performance drop vs single-task, lower is better): ${drop.toFixed(2)}%; Δp (LibMTL, higher is better): ${gain.toFixed(2)}%.`,
    );
  }
  const missing = s ? [] : ['No summary.json yet: test metrics appear when the run finishes.'];
  const tables = [runFactsTable(run), tasksTable(s)];
  return { id: `${prefix}-summary`, title: 'Multi-task summary', subtitle: run.id, notes, missing, tables, charts: [] };
}

function tasksTable(s: JsonObject | null): Table {
  const tasks = (s?.tasks ?? {}) as Record<string, JsonObject>;
  const base = get(s, 'deltaM.baselines') as Record<string, JsonObject> | undefined;
  const header = ['task', 'val accuracy (best epoch)', 'test loss', 'test accuracy', 'macro-F1', 'AUC-ROC'];
  const rows = Object.entries(tasks).map(([name, t]) => [
    name,
    pct(num(get(t, 'val.accuracy'))),
    fixed(num(get(t, 'test.loss'))),
    pct(num(get(t, 'test.accuracy'))),
    fixed(num(get(t, 'test.macroF1'))),
    fixed(num(get(t, 'test.aucRoc'))),
    ...(base ? [pct(num(base[name]?.accuracy))] : []),
  ]);
  return { title: 'Tasks', header: [...header, ...(base ? ['single-task accuracy'] : [])], rows };
}

/** A chart, or why it cannot be drawn (null: nothing to say). */
type Built = Chart | { missing: string } | null;

async function tasksSection(
  run: LoadedRun,
  tasks: string[],
  baselines: Map<string, LoadedRun>,
  prefix: string,
): Promise<Section> {
  const built: Built[] = [
    lossChart(run, tasks, prefix),
    accuracyChart(run, tasks, baselines, prefix),
    weightsChart(run, prefix),
    cosineChart(run, prefix),
    baselineVsTask(run, prefix),
  ];
  const charts = built.filter((b): b is Chart => b !== null && !('missing' in b));
  const missing = built.flatMap((b) => (b && 'missing' in b ? [b.missing] : []));
  return { id: `${prefix}-tasks`, title: 'Tasks over training', notes: [], missing, tables: [], charts };
}

function lossChart(run: LoadedRun, tasks: string[], prefix: string): Built {
  const rows = taskRows(run.history, tasks, (e, t) => [
    ['train', num(e.trainTasks?.[t]?.loss)],
    ['validation', num(get(e.val, `${t}.loss`))],
  ]);
  if (rows.length === 0) return null;
  return epochLinesChart({
    id: `${prefix}-task-loss`,
    title: 'Loss per task',
    caption:
      'Solid lines are each task’s training loss, dashed lines its validation loss; the rule marks the best epoch (mean validation metric over tasks).',
    yTitle: 'loss',
    rows,
    color: 'task',
    dash: 'split',
    dashOrder: ['train', 'validation'],
    bestEpoch: bestEpoch(run),
  });
}

function accuracyChart(run: LoadedRun, tasks: string[], baselines: Map<string, LoadedRun>, prefix: string): Built {
  const rows = taskRows(run.history, tasks, (e, t) => [['multi-task', num(get(e.val, `${t}.accuracy`))]]);
  for (const [task, b] of baselines)
    rows.push(...taskRows(b.history, [task], (e) => [['single-task', num(get(e.val, `${task}.accuracy`))]]));
  if (rows.length === 0) return null;
  const withBaselines = baselines.size > 0;
  return epochLinesChart({
    id: `${prefix}-task-accuracy`,
    title: 'Validation accuracy per task',
    caption: withBaselines
      ? 'Solid: the multi-task model; dashed: the same task trained alone (its single-task baseline).'
      : 'Validation accuracy of each task head per epoch.',
    yTitle: 'validation accuracy',
    rows,
    color: 'task',
    dash: withBaselines ? 'split' : undefined,
    dashOrder: ['multi-task', 'single-task'],
    bestEpoch: bestEpoch(run),
  });
}

function weightingOf(run: LoadedRun): string {
  return String(get(run.summary, 'multitask.weighting') ?? get(run.config, 'multitask.weighting') ?? 'unknown');
}

function weightsChart(run: LoadedRun, prefix: string): Built {
  const rows = run.history.flatMap((e) =>
    Object.entries(e.weights ?? {}).map(([task, w]) => ({ task, epoch: e.epoch, value: w })),
  );
  if (rows.length === 0) return null;
  const weighting = weightingOf(run);
  const constant = new Set(rows.map((r) => r.value)).size === 1;
  return epochLinesChart({
    id: `${prefix}-weights`,
    title: 'Task weights per epoch',
    caption: constant
      ? `Weighting ${weighting}: every task keeps weight ${rows[0]!.value}.`
      : `Weighting ${weighting}: the mean weight each task’s loss had over the epoch’s steps.`,
    yTitle: 'task weight',
    rows,
    color: 'task',
  });
}

function cosineChart(run: LoadedRun, prefix: string): Built {
  const rows = run.history.flatMap((e) =>
    Object.entries(e.gradients?.cosine ?? {}).map(([pair, c]) => ({
      pair,
      epoch: e.epoch,
      value: c,
      conflictRate: e.gradients?.conflictRate?.[pair] ?? null,
    })),
  );
  if (rows.length === 0)
    return {
      missing: `No gradient cosine similarity: it is measured by ${GRADIENT_NOTE}; this run used ${weightingOf(run)}.`,
    };
  const space = run.history.find((e) => e.gradients?.space)?.gradients?.space ?? '';
  return epochLinesChart({
    id: `${prefix}-gradient-cosine`,
    title: 'Gradient cosine similarity between tasks',
    caption: `Mean cosine of the two tasks’ gradients (${space}) per epoch; below zero the tasks pull the shared weights in conflicting directions (conflict rate in the data).`,
    yTitle: 'cosine similarity',
    rows,
    color: 'pair',
    zeroRule: true,
  });
}

function baselineVsTask(run: LoadedRun, prefix: string): Built {
  const deltaM = run.summary?.deltaM as JsonObject | undefined;
  if (!deltaM)
    return {
      missing:
        'No single-task baselines: train with `--baselines` to compare each task with the task trained alone (Δm).',
    };
  const tasks = (run.summary?.tasks ?? {}) as Record<string, JsonObject>;
  const base = (deltaM.baselines ?? {}) as Record<string, JsonObject>;
  const entries = Object.keys(tasks).flatMap((task) => {
    const mt = num(get(tasks[task], 'test.accuracy'));
    const st = num(base[task]?.accuracy);
    return mt !== null && st !== null ? [{ task, multiTask: mt, singleTask: st }] : [];
  });
  return baselineChart(
    entries,
    { dropPct: num(deltaM.dropPct) ?? 0, deltaPPct: num(deltaM.deltaPPct) ?? 0 },
    `${prefix}-baselines`,
  );
}

type Picker = (e: EpochRow, task: string) => Array<[string, number | null]>;

function taskRows(history: EpochRow[], tasks: string[], pick: Picker): Row[] {
  return history.flatMap((e) =>
    tasks.flatMap((task) =>
      pick(e, task).flatMap(([split, value]) => (value === null ? [] : [{ task, split, epoch: e.epoch, value }])),
    ),
  );
}

/** Task name → its single-task baseline run (deltaM.baselineRunIds, in task order), when still on disk. */
async function loadBaselines(run: LoadedRun): Promise<Map<string, LoadedRun>> {
  const out = new Map<string, LoadedRun>();
  const ids = (get(run.summary, 'deltaM.baselineRunIds') ?? []) as string[];
  for (const id of ids) {
    const b = await loadSibling(run, id);
    const task = b ? Object.keys((b.summary?.tasks ?? {}) as JsonObject)[0] : undefined;
    if (b && task) out.set(task, b);
  }
  return out;
}
