// Sweep results: the selection metric against each parameter (log axis for rates and ranges that
// span decades; every trial a dot, every point mean ± std), parallel coordinates of all parameters,
// and what early termination (ASHA) stopped, where and against which cutoff.
import { layerIf, lineMark, makeChart, scaleFor } from '../spec.ts';
import type { Chart, Row } from '../types.ts';

export interface SweepTrialView {
  trialId: string;
  status: string;
  /** Parameter values as they will be drawn: numbers stay numbers, anything else becomes a label. */
  params: Record<string, number | string>;
  metric: number | null;
  epochs: number | null;
}

export interface SweepPointView {
  params: Record<string, number | string>;
  mean: number | null;
  std: number | null;
  seeds: number;
}

const STATUS_COLORS = { completed: '#4c78a8', pruned: '#e4a33b', failed: '#e03131', running: '#9d9d9d' };

/** Parameters whose name says they are rates or strengths: always on a log axis. */
const LOG_NAMES = /(^|\.)(lr|learningRate|learning_rate|weightDecay|l1|l2|epsilon|temperature)$/i;

export function metricVsParamChart(
  param: string,
  trials: SweepTrialView[],
  points: SweepPointView[],
  metric: string,
  id: string,
): Chart {
  const rows: Row[] = [
    ...trials
      .filter((t) => t.metric !== null && t.params[param] !== undefined)
      .map((t) => ({
        kind: 'trial',
        value: t.params[param]!,
        metric: t.metric,
        std: null,
        status: t.status,
        trialId: t.trialId,
      })),
    ...points
      .filter((p) => p.mean !== null && p.params[param] !== undefined)
      .map((p) => ({
        kind: 'point',
        value: p.params[param]!,
        metric: p.mean,
        std: p.std,
        status: null,
        trialId: null,
      })),
  ];
  const values = rows.map((r) => r.value);
  const numeric = values.every((v) => typeof v === 'number');
  const scale = numeric
    ? LOG_NAMES.test(param) && values.every((v) => (v as number) > 0)
      ? { type: 'log' }
      : scaleFor(values as number[], 100)
    : {};
  const x = numeric
    ? { field: 'value', type: 'quantitative', title: param, scale, axis: { format: '~g' } }
    : { field: 'value', type: 'nominal', title: param, axis: { labelAngle: 0 } };
  const y = { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false } };
  const layers = [
    ...layerIf(rows, (r) => r.kind === 'trial', {
      transform: [{ filter: "datum.kind === 'trial'" }],
      mark: { type: 'point', filled: true, size: 40, opacity: 0.75 },
      encoding: {
        x,
        y,
        color: {
          field: 'status',
          type: 'nominal',
          scale: { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS) },
        },
        tooltip: [
          { field: 'trialId' },
          { field: 'value', title: param },
          { field: 'metric', format: '.4f' },
          { field: 'status' },
        ],
      },
    }),
    ...layerIf(rows, (r) => r.kind === 'point' && (r.std as number) > 0, {
      transform: [
        { filter: "datum.kind === 'point' && datum.std > 0" },
        { calculate: 'datum.metric - datum.std', as: 'lo' },
        { calculate: 'datum.metric + datum.std', as: 'hi' },
      ],
      mark: { type: 'rule', color: 'black' },
      encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    }),
    ...layerIf(rows, (r) => r.kind === 'point', {
      transform: [{ filter: "datum.kind === 'point'" }],
      mark: { type: 'tick', color: 'black', thickness: 2, size: 14, orient: 'horizontal' },
      encoding: {
        x,
        y,
        tooltip: [
          { field: 'value', title: param },
          { field: 'metric', format: '.4f', title: 'mean' },
          { field: 'std', format: '.4f' },
        ],
      },
    }),
  ];
  const caption = `Each dot is a trial, each black tick a point’s mean over seeds (± std as a line)${numeric && (scale as { type?: string }).type === 'log' ? '; log axis' : ''}.`;
  return makeChart({
    id,
    family: 'sweep',
    title: `${metric} against ${param}`,
    caption,
    rows,
    view: { width: 300, layer: layers },
  });
}

/**
 * Parallel coordinates: one vertical axis per parameter and one for the metric, each scaled to its
 * own range (categories spread evenly), one line per completed trial coloured by the metric.
 */
export function parallelCoordinatesChart(
  params: string[],
  trials: SweepTrialView[],
  metric: string,
  id: string,
): Chart {
  const axes = [...params, metric];
  const done = trials.filter((t) => t.metric !== null);
  const position = axes.map((a) =>
    axisPositions(a === metric ? done.map((t) => t.metric!) : done.map((t) => t.params[a]!), LOG_NAMES.test(a)),
  );
  const rows: Row[] = [];
  done.forEach((t) => {
    axes.forEach((a, i) => {
      const raw = a === metric ? t.metric! : t.params[a]!;
      rows.push({
        trialId: t.trialId,
        axis: a,
        order: i,
        position: position[i]!.of(raw),
        value: raw,
        metric: t.metric,
      });
    });
  });
  const ticks: Row[] = axes.flatMap((a, i) =>
    position[i]!.labels.map((l) => ({ axis: a, position: l.position, label: l.label })),
  );
  const x = {
    field: 'axis',
    type: 'nominal',
    sort: axes,
    title: null,
    axis: { labelAngle: 0, orient: 'top', domain: false, ticks: false },
  };
  const y = { field: 'position', type: 'quantitative', axis: null, scale: { domain: [0, 1] } };
  const layers = [
    { data: { values: axes.map((a) => ({ axis: a })) }, mark: { type: 'rule', color: '#bbb' }, encoding: { x } },
    {
      mark: lineMark(0, { strokeWidth: 1.5, opacity: 0.8, point: false }),
      encoding: {
        x,
        y,
        detail: { field: 'trialId' },
        order: { field: 'order', type: 'quantitative' },
        color: { field: 'metric', type: 'quantitative', title: metric, scale: { scheme: 'viridis' } },
        tooltip: [{ field: 'trialId' }, { field: 'axis' }, { field: 'value' }, { field: 'metric', format: '.4f' }],
      },
    },
    {
      data: { values: ticks },
      mark: { type: 'text', align: 'left', dx: 3, fontSize: 9, color: '#333' },
      encoding: { x, y, text: { field: 'label' } },
    },
  ];
  const caption = `One line per trial through every parameter (each axis spans its own range, labelled at its ends) and ${metric}; colour is ${metric}.`;
  return makeChart({
    id,
    family: 'sweep',
    title: 'Parallel coordinates',
    caption,
    rows,
    view: { width: Math.max(120 * axes.length, 300), height: 240, layer: layers },
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

export interface PruneView {
  trialId: string;
  epoch: number;
  value: number;
  cutoff: number | null;
  action: 'stop' | 'continue';
  rank: string;
}

/** Every early-termination decision: value at the rung against the cutoff it had to beat. */
export function pruningChart(decisions: PruneView[], metric: string, id: string): Chart {
  const rows: Row[] = decisions.map((d) => ({ ...d }));
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'epoch of the decision (rung)',
    axis: { tickMinStep: 1, format: 'd' },
  };
  const layers = [
    ...layerIf(rows, (r) => r.cutoff !== null, {
      transform: [{ filter: 'isValid(datum.cutoff)' }],
      mark: { type: 'tick', color: '#333', thickness: 2, orient: 'horizontal' },
      encoding: { x, y: { field: 'cutoff', type: 'quantitative' } },
    }),
    {
      mark: { type: 'point', filled: true, size: 50, opacity: 0.85 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
        color: {
          field: 'action',
          type: 'nominal',
          title: 'decision',
          scale: { domain: ['continue', 'stop'], range: ['#4c78a8', '#e03131'] },
        },
        shape: {
          field: 'action',
          type: 'nominal',
          scale: { domain: ['continue', 'stop'], range: ['circle', 'cross'] },
        },
        tooltip: [
          { field: 'trialId' },
          { field: 'epoch' },
          { field: 'value', format: '.4f' },
          { field: 'cutoff', format: '.4f' },
          { field: 'rank' },
          { field: 'action' },
        ],
      },
    },
  ];
  const caption =
    'Each mark is a trial at a rung: crosses were stopped, circles went on; the black tick is the cutoff it had to reach (ASHA: the top 1/η of its rung).';
  return makeChart({
    id,
    family: 'sweep',
    title: 'Early termination decisions',
    caption,
    rows,
    view: { layer: layers },
  });
}

/** Every trial's validation metric per epoch (from its run folder): pruned trials end early at a rung. */
export function trialCurvesChart(rows: Row[], rungs: number[], metric: string, id: string): Chart {
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  const layers: Record<string, unknown>[] = [
    {
      mark: lineMark(new Set(rows.map((r) => r.epoch)).size, { strokeWidth: 1.5, opacity: 0.8 }),
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
        detail: { field: 'trialId' },
        color: {
          field: 'status',
          type: 'nominal',
          scale: { domain: Object.keys(STATUS_COLORS), range: Object.values(STATUS_COLORS) },
        },
        tooltip: [{ field: 'trialId' }, { field: 'epoch' }, { field: 'value', format: '.4f' }, { field: 'status' }],
      },
    },
  ];
  if (rungs.length > 0) {
    layers.unshift({
      data: { values: rungs.map((epoch) => ({ epoch })) },
      mark: { type: 'rule', strokeDash: [3, 3], color: '#aaa' },
      encoding: { x },
    });
  }
  const caption = `${metric} of every trial per epoch; dotted rules are the rungs where early termination decided, and pruned trials stop there.`;
  return makeChart({ id, family: 'sweep', title: 'Trials over epochs', caption, rows, view: { layer: layers } });
}
