// Parallel coordinates of a sweep: one vertical axis per parameter and one for the metric, each
// scaled to its own range (a log range for rates, categories spread evenly), one line per trial.

import { lineMark, makeChart, scaleFor } from '../spec.ts';
import type { Chart, Row } from '../types.ts';
import { LOG_NAMES, type SweepTrialView } from './sweep.ts';

/** Pixels between two axes. */
const AXIS_GAP = 120;

export function parallelCoordinatesChart(
  params: string[],
  trials: SweepTrialView[],
  metric: string,
  id: string,
): Chart {
  const axes = shortNames([...params, metric]);
  const { rows, ticks } = parallelRows(axes, metric, trials);
  const x = {
    field: 'axis',
    type: 'nominal',
    sort: axes.map((a) => a.label),
    title: null,
    axis: { labelAngle: 0, orient: 'top', domain: false, ticks: false, labelLimit: AXIS_GAP - 8 },
    scale: { type: 'point', padding: 0.4 },
  };
  const y = { field: 'position', type: 'quantitative', axis: null, scale: { domain: [0, 1] } };
  const color = { field: 'metric', type: 'quantitative', title: metric, scale: { scheme: 'viridis' } };
  const order = { field: 'order', type: 'quantitative' };
  const layers = [
    { data: { values: axes.map((a) => ({ axis: a.label })) }, mark: { type: 'rule', color: '#bbb' }, encoding: { x } },
    {
      mark: lineMark(0, { strokeWidth: 1.5, opacity: 0.8, point: false }),
      encoding: { x, y, detail: { field: 'trialId' }, order, color },
    },
    {
      data: { values: ticks },
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 9, color: '#333' },
      encoding: { x, y, text: { field: 'label' } },
    },
  ];
  const caption = `One line per trial through every parameter (each axis spans its own range, labelled at its ends) and ${metric}, coloured by ${metric}.`;
  const view = { width: Math.max(AXIS_GAP * axes.length, 300), height: 240, view: { stroke: null }, layer: layers };
  return makeChart({ id, family: 'sweep', title: 'Parallel coordinates', caption, rows, view });
}

/** Each completed trial's position on every axis, and the labels at the axes' ends. */
function parallelRows(
  axes: Array<{ key: string; label: string }>,
  metric: string,
  trials: SweepTrialView[],
): { rows: Row[]; ticks: Row[] } {
  const done = trials.filter((t) => t.metric !== null);
  const raw = (t: SweepTrialView, axis: string): number | string => (axis === metric ? t.metric! : t.params[axis]!);
  const positions = axes.map((a) =>
    axisPositions(
      done.map((t) => raw(t, a.key)),
      LOG_NAMES.test(a.key),
    ),
  );
  const rows = done.flatMap((t) =>
    axes.map((a, order) => {
      const value = raw(t, a.key);
      const position = positions[order]!.of(value);
      return { trialId: t.trialId, axis: a.label, parameter: a.key, order, position, value, metric: t.metric };
    }),
  );
  const ticks = axes.flatMap((a, i) => positions[i]!.labels.map((l) => ({ axis: a.label, ...l })));
  return { rows, ticks };
}

/** Axis labels: the last part of a dotted path (lr, batchSize), or more of it where that is ambiguous. */
function shortNames(keys: string[]): Array<{ key: string; label: string }> {
  const tail = (k: string, n: number): string => k.split('.').slice(-n).join('.');
  return keys.map((key) => {
    let n = 1;
    while (keys.some((other) => other !== key && tail(other, n) === tail(key, n)) && n < key.split('.').length) n++;
    return { key, label: tail(key, n) };
  });
}

interface AxisPositions {
  of(value: number | string): number;
  labels: Array<{ position: number; label: string }>;
}

/** Where values sit on a [0, 1] axis: numbers linearly (or log), categories evenly in first-seen order. */
function axisPositions(values: Array<number | string>, log: boolean): AxisPositions {
  if (values.length > 0 && values.every((v) => typeof v === 'number')) {
    const nums = values as number[];
    const useLog = (log || scaleFor(nums, 100).type === 'log') && nums.every((v) => v > 0);
    const f = (v: number): number => (useLog ? Math.log10(v) : v);
    const lo = Math.min(...nums.map(f));
    const hi = Math.max(...nums.map(f));
    const of = (v: number | string): number => (hi === lo ? 0.5 : (f(v as number) - lo) / (hi - lo));
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    return {
      of,
      labels:
        min === max
          ? [{ position: 0.5, label: fmt(min) }]
          : [
              { position: 0, label: fmt(min) },
              { position: 1, label: fmt(max) },
            ],
    };
  }
  const cats = [...new Set(values.map(String))];
  const of = (v: number | string): number => (cats.length === 1 ? 0.5 : cats.indexOf(String(v)) / (cats.length - 1));
  return { of, labels: cats.map((c) => ({ position: of(c), label: c })) };
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(1);
}
