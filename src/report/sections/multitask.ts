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
  const tasks = (s?.tasks ?? {}) as Record<string, JsonObject>;
  const base = get(s, 'deltaM.baselines') as Record<string, JsonObject> | undefined;
  const table: Table = {
    title: 'Tasks',
    header: [
      'task',
      'val accuracy (best epoch)',
      'test loss',
      'test accuracy',
      'macro-F1',
      'AUC-ROC',
      ...(base ? ['single-task accuracy'] : []),
    ],
    rows: Object.entries(tasks).map(([name, t]) => [
      name,
      pct(num(get(t, 'val.accuracy'))),
      fixed(num(get(t, 'test.loss'))),
      pct(num(get(t, 'test.accuracy'))),
      fixed(num(get(t, 'test.macroF1'))),
      fixed(num(get(t, 'test.aucRoc'))),
      ...(base ? [pct(num(base[name]?.accuracy))] : []),
    ]),
  };
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
  return {
    id: `${prefix}-summary`,
    title: 'Multi-task summary',
    subtitle: run.id,
    notes,
    missing,
    tables: [runFactsTable(run), table],
    charts: [],
  };
}

async function tasksSection(
  run: LoadedRun,
  tasks: string[],
  baselines: Map<string, LoadedRun>,
  prefix: string,
): Promise<Section> {
  const best = bestEpoch(run);
  const charts: Chart[] = [];
  const missing: string[] = [];
  const lossRows = taskRows(run.history, tasks, (e, t) => [
    ['train', num(e.trainTasks?.[t]?.loss)],
    ['validation', num(get(e.val, `${t}.loss`))],
  ]);
  if (lossRows.length > 0) {
    charts.push(
      epochLinesChart({
        id: `${prefix}-task-loss`,
        title: 'Loss per task',
        caption:
          'Solid lines are each task’s training loss, dashed lines its validation loss; the rule marks the best epoch (mean validation metric over tasks).',
        yTitle: 'loss',
        rows: lossRows,
        color: 'task',
        dash: 'split',
        dashOrder: ['train', 'validation'],
        bestEpoch: best,
      }),
    );
  }
  const accRows = [...taskRows(run.history, tasks, (e, t) => [['multi-task', num(get(e.val, `${t}.accuracy`))]])];
  for (const [task, b] of baselines)
    accRows.push(...taskRows(b.history, [task], (e) => [['single-task', num(get(e.val, `${task}.accuracy`))]]));
  if (accRows.length > 0) {
    charts.push(
      epochLinesChart({
        id: `${prefix}-task-accuracy`,
        title: 'Validation accuracy per task',
        caption:
          baselines.size > 0
            ? 'Solid: the multi-task model; dashed: the same task trained alone (its single-task baseline).'
            : 'Validation accuracy of each task head per epoch.',
        yTitle: 'validation accuracy',
        rows: accRows,
        color: 'task',
        dash: baselines.size > 0 ? 'split' : undefined,
        dashOrder: ['multi-task', 'single-task'],
        bestEpoch: best,
      }),
    );
  }
  charts.push(...weightAndGradientCharts(run, prefix, missing));
  const deltaM = run.summary?.deltaM as JsonObject | undefined;
  if (deltaM) charts.push(baselineVsTask(run, deltaM, prefix));
  else
    missing.push(
      'No single-task baselines: train with `--baselines` to compare each task with the task trained alone (Δm).',
    );
  return { id: `${prefix}-tasks`, title: 'Tasks over training', notes: [], missing, tables: [], charts };
}

function weightAndGradientCharts(run: LoadedRun, prefix: string, missing: string[]): Chart[] {
  const charts: Chart[] = [];
  const weightRows = run.history.flatMap((e) =>
    Object.entries(e.weights ?? {}).map(([task, w]) => ({ task, split: null, epoch: e.epoch, value: w })),
  );
  const weighting = String(
    get(run.summary, 'multitask.weighting') ?? get(run.config, 'multitask.weighting') ?? 'unknown',
  );
  if (weightRows.length > 0) {
    const constant = new Set(weightRows.map((r) => r.value)).size === 1;
    charts.push(
      epochLinesChart({
        id: `${prefix}-weights`,
        title: 'Task weights per epoch',
        caption: constant
          ? `Weighting ${weighting}: every task keeps weight ${weightRows[0]!.value}.`
          : `Weighting ${weighting}: the mean weight each task’s loss had over the epoch’s steps.`,
        yTitle: 'task weight',
        rows: weightRows,
        color: 'task',
      }),
    );
  }
  const cosRows = run.history.flatMap((e) =>
    Object.entries(e.gradients?.cosine ?? {}).map(([pair, c]) => ({
      pair,
      epoch: e.epoch,
      value: c,
      conflictRate: e.gradients?.conflictRate?.[pair] ?? null,
    })),
  );
  if (cosRows.length > 0) {
    const space = run.history.find((e) => e.gradients?.space)?.gradients?.space ?? '';
    charts.push(
      epochLinesChart({
        id: `${prefix}-gradient-cosine`,
        title: 'Gradient cosine similarity between tasks',
        caption: `Mean cosine of the two tasks’ gradients (${space}) per epoch; below zero the tasks pull the shared weights in conflicting directions (conflict rate in the data).`,
        yTitle: 'cosine similarity',
        rows: cosRows,
        color: 'pair',
        zeroRule: true,
      }),
    );
  } else {
    missing.push(`No gradient cosine similarity: it is measured by ${GRADIENT_NOTE}; this run used ${weighting}.`);
  }
  return charts;
}

function baselineVsTask(run: LoadedRun, deltaM: JsonObject, prefix: string): Chart {
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
