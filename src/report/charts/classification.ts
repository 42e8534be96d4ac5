// What a classifier gets wrong, class by class: the confusion matrix (counts and row-normalised,
// class names on the axes), per-class precision / recall / F1, and one-vs-rest ROC curves with AUC.
import type { ClassMetrics } from '../../metrics/classification.ts';
import type { RocCurve } from '../../metrics/roc.ts';
import { makeChart } from '../spec.ts';
import type { Chart, Row } from '../types.ts';

export interface ClassificationInput {
  classNames: string[];
  confusion: number[][];
  perClass?: ClassMetrics[];
  /** Absent in eval files of older runs: then no ROC chart. */
  roc?: RocCurve[];
  /** Where the numbers come from, for captions: "test split, weights of epoch 9". */
  source: string;
}

/** Pixels per confusion cell: 10 classes fill a 320 px square, 2 classes stay readable. */
const CELL = 32;

export function classificationCharts(input: ClassificationInput, idPrefix: string, titleSuffix = ''): Chart[] {
  const names = input.classNames;
  const charts = [
    confusionChart(input, `${idPrefix}-confusion`, false, titleSuffix),
    confusionChart(input, `${idPrefix}-confusion-normalised`, true, titleSuffix),
  ];
  const perClass = input.perClass ?? [];
  if (perClass.length === names.length) charts.push(perClassChart(input, `${idPrefix}-per-class`, titleSuffix));
  if (input.roc && input.roc.length > 0) charts.push(rocChart(input, `${idPrefix}-roc`, titleSuffix));
  return charts;
}

function confusionChart(input: ClassificationInput, id: string, normalised: boolean, suffix: string): Chart {
  const rows = confusionRows(input, normalised);
  const names = input.classNames;
  const side = Math.max(CELL * names.length, 120);
  const axis = (field: string, title: string) => ({
    field,
    type: 'ordinal',
    sort: names,
    title,
    axis: { labelAngle: field === 'predicted' ? -40 : 0, labelLimit: 120 },
  });
  const fill = {
    field: normalised ? 'rate' : 'count',
    type: 'quantitative',
    title: normalised ? 'share of row' : 'examples',
    scale: { scheme: 'blues', ...(normalised ? { domain: [0, 1] } : {}) },
    legend: { format: normalised ? '.0%' : 'd' },
  };
  const text = { field: normalised ? 'rate' : 'count', type: 'quantitative', format: normalised ? '.0%' : 'd' };
  const labels = {
    transform: [{ filter: normalised ? 'datum.rate >= 0.005' : 'datum.count > 0' }],
    mark: { type: 'text', fontSize: names.length > 12 ? 8 : 10 },
    encoding: { text, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#222' } },
  };
  const view = {
    width: side,
    height: side,
    encoding: { y: axis('true', 'true class'), x: axis('predicted', 'predicted class') },
    layer: [{ mark: { type: 'rect', stroke: 'white', strokeWidth: 1 }, encoding: { color: fill } }, labels],
  };
  const title = `${normalised ? 'Confusion matrix, row-normalised' : 'Confusion matrix, counts'}${suffix}`;
  const caption = normalised
    ? `Each row is one true class (${input.source}); a cell is the share of that class predicted as the column's class, so the diagonal is per-class recall.`
    : `Rows are true classes, columns predicted classes (${input.source}); off-diagonal cells are the mistakes.`;
  return makeChart({ id, family: 'classification', title, caption, rows, view });
}

/** One row per cell; `dark` marks cells whose fill is dark enough for white text. */
function confusionRows(input: ClassificationInput, normalised: boolean): Row[] {
  const names = input.classNames;
  const max = Math.max(1, ...input.confusion.flat());
  return input.confusion.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => {
      const rate = total === 0 ? 0 : count / total;
      const dark = normalised ? rate > 0.5 : count > max / 2;
      return { true: names[t] ?? String(t), predicted: names[p] ?? String(p), count, rate, dark };
    });
  });
}

function perClassChart(input: ClassificationInput, id: string, suffix: string): Chart {
  const rows: Row[] = [];
  (input.perClass ?? []).forEach((m, c) => {
    const cls = input.classNames[c] ?? String(c);
    rows.push({ class: cls, metric: 'precision', value: m.precision, support: m.support });
    rows.push({ class: cls, metric: 'recall', value: m.recall, support: m.support });
    rows.push({ class: cls, metric: 'F1', value: m.f1, support: m.support });
  });
  const view = {
    width: Math.max(CHART_STEP * input.classNames.length, 200),
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'class', type: 'nominal', sort: input.classNames, title: null, axis: { labelAngle: -40 } },
      xOffset: { field: 'metric', sort: ['precision', 'recall', 'F1'] },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'metric', type: 'nominal', sort: ['precision', 'recall', 'F1'], title: null },
    },
  };
  const caption = `Precision, recall and F1 of each class (${input.source}); the weakest class is the lowest group of bars.`;
  return makeChart({
    id,
    family: 'classification',
    title: `Per-class precision, recall, F1${suffix}`,
    caption,
    rows,
    view,
  });
}

/** Width per class group in the per-class bar chart. */
const CHART_STEP = 36;

function rocChart(input: ClassificationInput, id: string, suffix: string): Chart {
  const curves = input.roc ?? [];
  const labels = curves.map((c) => `${input.classNames[c.classIndex] ?? c.classIndex} (AUC ${c.auc.toFixed(3)})`);
  const rows: Row[] = curves.flatMap((c, k) =>
    c.fpr.map((fpr, order) => ({ class: labels[k]!, order, fpr, tpr: c.tpr[order]! })),
  );
  const x = { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } };
  const y = { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } };
  const chance = {
    data: {
      values: [
        { fpr: 0, tpr: 0 },
        { fpr: 1, tpr: 1 },
      ],
    },
    mark: { type: 'line', strokeDash: [4, 4], color: '#999', strokeWidth: 1 },
    encoding: { x, y },
  };
  const color = { field: 'class', type: 'nominal', sort: labels, title: 'class (one vs rest)' };
  const lines = {
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: { x, y, order: { field: 'order', type: 'quantitative' }, color },
  };
  const caption = `One-vs-rest ROC curve of each class (${input.source}); the dashed diagonal is chance, and AUC is the exact area under each curve.`;
  const view = { width: 260, height: 260, layer: [chance, lines] };
  return makeChart({ id, family: 'classification', title: `ROC curves, one vs rest${suffix}`, caption, rows, view });
}
