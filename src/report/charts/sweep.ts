// Sweep results: the selection metric against each parameter (log axis for rates and ranges that
// span decades; every trial a dot, every point mean ± std), parallel coordinates of all parameters,
// and what early termination (ASHA) stopped, where and against which cutoff.
import { fixedColors, kindLayer, layerIf, lineMark, makeChart, scaleFor, spreadLayer } from '../spec.ts';
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

const STATUS_COLOR = {
  field: 'status',
  type: 'nominal',
  scale: fixedColors({ completed: '#4c78a8', pruned: '#e4a33b', failed: '#e03131', running: '#9d9d9d' }),
};

/** Parameters whose name says they are rates or strengths: always on a log axis. */
export const LOG_NAMES = /(^|\.)(lr|learningRate|learning_rate|weightDecay|l1|l2|epsilon|temperature)$/i;

export function metricVsParamChart(
  param: string,
  trials: SweepTrialView[],
  points: SweepPointView[],
  metric: string,
  id: string,
): Chart {
  const rows = paramRows(param, trials, points);
  const { x, log } = paramAxis(
    param,
    rows.map((r) => r.value as number | string),
  );
  const y = { field: 'metric', type: 'quantitative', title: metric, scale: { zero: false, padding: 10 } };
  const dot = { type: 'point', filled: true, size: 40, opacity: 0.75 };
  const tick = { type: 'tick', color: 'black', thickness: 2, size: 14, orient: 'horizontal' };
  const layers = [
    ...kindLayer(rows, 'trial', dot, { x, y, color: STATUS_COLOR }),
    ...spreadLayer(rows, { kind: 'point', x, value: 'metric', spread: 'std' }),
    ...kindLayer(rows, 'point', tick, { x, y }),
  ];
  const caption = `Each dot is a trial, each black tick a point’s mean over seeds (± std as a line)${log ? '; log axis' : ''}.`;
  const view = { width: 300, layer: layers };
  return makeChart({ id, family: 'sweep', title: `${metric} against ${param}`, caption, rows, view });
}

/** Trials (kind 'trial') and points (kind 'point', mean ± std) that have a value for `param`. */
function paramRows(param: string, trials: SweepTrialView[], points: SweepPointView[]): Row[] {
  const trialRows = trials
    .filter((t) => t.metric !== null && t.params[param] !== undefined)
    .map((t) => ({
      kind: 'trial',
      value: t.params[param]!,
      metric: t.metric,
      std: null,
      status: t.status,
      trialId: t.trialId,
    }));
  const pointRows = points
    .filter((p) => p.mean !== null && p.params[param] !== undefined)
    .map((p) => ({ kind: 'point', value: p.params[param]!, metric: p.mean, std: p.std, status: null, trialId: null }));
  return [...trialRows, ...pointRows];
}

/** Numeric parameters with at most this many distinct values (a grid) get one column per value. */
const MAX_GRID_VALUES = 6;

/**
 * A parameter's x axis: log for rates and ranges over two decades; a column per value for a few
 * grid values (64, 128) or any non-numeric value; else linear.
 */
function paramAxis(param: string, values: Array<number | string>): { x: Record<string, unknown>; log: boolean } {
  const numeric = values.every((v) => typeof v === 'number');
  const nums = values as number[];
  const log = numeric && nums.every((v) => v > 0) && (LOG_NAMES.test(param) || scaleFor(nums, 100).type === 'log');
  // Padding keeps the dots of the smallest and largest values off the frame.
  if (log)
    return {
      x: {
        field: 'value',
        type: 'quantitative',
        title: param,
        scale: { type: 'log', padding: 14 },
        axis: { format: '~g' },
      },
      log,
    };
  if (!numeric || new Set(nums).size <= MAX_GRID_VALUES) {
    const sort = numeric ? [...new Set(nums)].sort((a, b) => a - b) : undefined;
    return {
      x: { field: 'value', type: numeric ? 'ordinal' : 'nominal', sort, title: param, axis: { labelAngle: 0 } },
      log,
    };
  }
  return { x: { field: 'value', type: 'quantitative', title: param, scale: { zero: false, padding: 14 } }, log };
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
  // Rungs are a handful of epochs: one column each.
  const x = { field: 'epoch', type: 'ordinal', title: 'epoch of the decision (rung)', axis: { labelAngle: 0 } };

  const decision = { domain: ['continue', 'stop'] };
  const layers = [
    ...layerIf(rows, (r) => r.cutoff !== null, {
      transform: [{ filter: 'isValid(datum.cutoff)' }],
      mark: { type: 'tick', color: '#333', thickness: 2, size: 28, orient: 'horizontal' },
      encoding: { x, y: { field: 'cutoff', type: 'quantitative' } },
    }),
    {
      mark: { type: 'point', filled: true, size: 50, opacity: 0.85 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false, padding: 10 } },
        color: {
          field: 'action',
          type: 'nominal',
          title: 'decision',
          scale: { ...decision, range: ['#4c78a8', '#e03131'] },
        },
        shape: { field: 'action', type: 'nominal', scale: { ...decision, range: ['circle', 'cross'] } },
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
        color: STATUS_COLOR,
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
