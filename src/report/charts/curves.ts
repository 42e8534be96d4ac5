// Learning curves of one run or several overlaid: loss and the monitored metric (train and
// validation) with the best epoch marked, the learning rate, and seconds per epoch. A series made of
// several runs (seeds of one config) is drawn as its mean with a ± std band.
import { meanStd } from '../../metrics/report.ts';
import { EPOCH_X, lineMark, makeChart, num, scaleFor } from '../spec.ts';
import type { Chart, EpochRow, Row } from '../types.ts';

export interface CurveRun {
  history: EpochRow[];
  /** Selected on validation; null when unknown (a run still running) or no validation split. */
  bestEpoch: number | null;
}

export interface CurveSeries {
  label: string;
  /** One run, or the seeds of one config (drawn as mean ± std). */
  runs: CurveRun[];
}

type Pick = (e: EpochRow) => number | null;

const SPLIT_ORDER: Array<'train' | 'validation'> = ['train', 'validation'];

export interface CurveOptions {
  /** Which splits the loss and metric charts draw (default both). */
  splits?: Array<'train' | 'validation'>;
  /** What a series is, for legends and titles (default 'run'). */
  seriesName?: string;
  /** Which charts (default all four). */
  include?: Array<'loss' | 'metric' | 'lr' | 'seconds'>;
}

/** The four families of curves; `metric` is the monitored metric's name (accuracy, macroF1). */
export function curveCharts(series: CurveSeries[], idPrefix: string, metric: string, o: CurveOptions = {}): Chart[] {
  const include = o.include ?? ['loss', 'metric', 'lr', 'seconds'];
  const splits = o.splits ?? SPLIT_ORDER;
  const name = o.seriesName ?? 'run';
  const overlay = series.length > 1;
  const every = overlay ? `, every ${name}` : '';
  const prefix = splits.length === 1 && splits[0] === 'validation' ? 'Validation ' : '';
  const lower = (t: string): string => (prefix ? t.charAt(0).toLowerCase() + t.slice(1) : t);
  const valMetric: Pick = (e) => num((e.val as Record<string, unknown> | null | undefined)?.[metric]);
  const trainMetric: Pick = (e) => num((e.train as Record<string, unknown> | undefined)?.[metric]);
  const split = (id: string, title: string, yTitle: string, picks: SplitChartOptions['picks']) =>
    splitChart(series, {
      id: `${idPrefix}-${id}`,
      title: `${prefix}${lower(title)}${every}`,
      yTitle,
      picks,
      splits,
      name,
    });
  const charts = [
    include.includes('loss')
      ? split('loss', 'Loss per epoch', 'loss', {
          train: (e) => num(e.train?.loss),
          validation: (e) => num(e.val?.loss),
        })
      : null,
    include.includes('metric')
      ? split(metric.toLowerCase(), `${metricTitle(metric)} per epoch`, metric, {
          train: trainMetric,
          validation: valMetric,
        })
      : null,
    include.includes('lr')
      ? singleChart(
          series,
          `${idPrefix}-lr`,
          `Learning rate per epoch${every}`,
          'learning rate',
          (e) => num(e.lr),
          name,
        )
      : null,
    include.includes('seconds')
      ? singleChart(
          series,
          `${idPrefix}-seconds`,
          `Seconds per epoch${every}`,
          'seconds (training pass)',
          (e) => num(e.seconds),
          name,
        )
      : null,
  ];
  return charts.filter((c): c is Chart => c !== null);
}

export function metricTitle(metric: string): string {
  return metric === 'macroF1' ? 'Macro-F1' : metric.charAt(0).toUpperCase() + metric.slice(1);
}

interface SplitChartOptions {
  id: string;
  title: string;
  yTitle: string;
  picks: Record<'train' | 'validation', Pick>;
  splits: Array<'train' | 'validation'>;
  /** Legend title of the series. */
  name: string;
}

/** Train and validation of one quantity; the best epoch marked on the validation curve. */
function splitChart(series: CurveSeries[], o: SplitChartOptions): Chart | null {
  const rows: Row[] = [];
  for (const s of series) {
    for (const split of o.splits) rows.push(...seriesRows(s, split, o.picks[split]));
  }
  if (rows.length === 0) return null;
  const overlay = series.length > 1;
  const epochs = new Set(rows.map((r) => r.epoch)).size;
  const color = overlay
    ? { field: 'run', type: 'nominal', title: o.name, sort: series.map((s) => s.label) }
    : { field: 'split', type: 'nominal', title: null, sort: SPLIT_ORDER };
  const dashed = overlay && o.splits.length > 1;
  const encoding = {
    x: EPOCH_X,
    y: { field: 'value', type: 'quantitative', title: o.yTitle, scale: { zero: false } },
    color,
    ...(dashed ? { strokeDash: { field: 'split', type: 'nominal', title: null, sort: SPLIT_ORDER } } : {}),
    tooltip: [
      { field: 'run' },
      { field: 'split' },
      { field: 'epoch' },
      { field: 'value', format: '.4f' },
      { field: 'std', format: '.4f' },
    ],
  };
  const layers: Record<string, unknown>[] = [...bandLayers(rows, color), { mark: lineMark(epochs), encoding }];
  layers.push(...bestLayers(rows, overlay, color));
  const caption = overlay
    ? `${dashed ? 'Solid lines are training, dashed lines validation; a' : 'A'} diamond marks each ${o.name}’s best epoch (chosen on validation)${series.some((s) => s.runs.length > 1) ? '; bands are ± 1 std over seeds' : ''}.`
    : 'The dashed rule marks the best epoch, chosen on validation; a validation curve that turns up while training keeps falling is over-fitting.';
  return makeChart({ id: o.id, family: 'curves', title: o.title, caption, rows, view: { layer: layers } });
}

/** One quantity per run (learning rate, seconds): one line per series. */
function singleChart(
  series: CurveSeries[],
  id: string,
  title: string,
  yTitle: string,
  pick: Pick,
  name: string,
): Chart | null {
  const rows = series.flatMap((s) => seriesRows(s, 'train', pick)).map(({ split: _, best: __, ...r }) => r);
  if (rows.length === 0) return null;
  const values = rows.map((r) => r.value as number);
  const overlay = series.length > 1;
  const color = overlay
    ? { field: 'run', type: 'nominal', title: name, sort: series.map((s) => s.label) }
    : { value: '#4c78a8' };
  const constant = Math.min(...values) === Math.max(...values);
  const caption =
    id.endsWith('-lr') && constant
      ? `Constant learning rate (${values[0]}).`
      : id.endsWith('-lr')
        ? 'The learning rate each epoch trained with (schedule, warm-up, phases of a fine-tune).'
        : 'Wall time of the training pass over each epoch’s batches, validation excluded; the first epoch includes warm-up.';
  const encoding = {
    x: EPOCH_X,
    y: { field: 'value', type: 'quantitative', title: yTitle, scale: scaleFor(values), axis: { format: '~g' } },
    color,
    tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'value', format: '.4g' }],
  };
  const layers = [...bandLayers(rows, color), { mark: lineMark(new Set(rows.map((r) => r.epoch)).size), encoding }];
  return makeChart({ id, family: 'curves', title, caption, rows, view: { layer: layers } });
}

/** Rows of one series and split: a single run as is, several runs as mean ± std per epoch. */
function seriesRows(s: CurveSeries, split: string, pick: Pick): Row[] {
  const runs = s.runs;
  if (runs.length === 1) {
    const best = runs[0]!.bestEpoch;
    return runs[0]!.history.flatMap((e) => {
      const value = pick(e);
      if (value === null) return [];
      return [
        { run: s.label, split, epoch: e.epoch, value, std: null, best: split === 'validation' && e.epoch === best },
      ];
    });
  }
  // Seeds are compared epoch by epoch, up to the shortest run (early stopping can cut one short).
  const epochs = Math.min(...runs.map((r) => r.history.length));
  const rows: Row[] = [];
  for (let i = 0; i < epochs; i++) {
    const values = runs.map((r) => pick(r.history[i]!)).filter((v): v is number => v !== null);
    if (values.length !== runs.length) continue;
    const m = meanStd(values);
    rows.push({ run: s.label, split, epoch: runs[0]!.history[i]!.epoch, value: m.mean, std: m.std, best: false });
  }
  return rows;
}

/** A ± std band under each aggregated series. */
function bandLayers(rows: Row[], color: Record<string, unknown>): Record<string, unknown>[] {
  if (!rows.some((r) => typeof r.std === 'number' && r.std > 0)) return [];
  return [
    {
      transform: [
        { filter: 'isValid(datum.std)' },
        { calculate: 'datum.value - datum.std', as: 'lo' },
        { calculate: 'datum.value + datum.std', as: 'hi' },
      ],
      mark: { type: 'area', opacity: 0.18 },
      encoding: {
        x: EPOCH_X,
        y: { field: 'lo', type: 'quantitative' },
        y2: { field: 'hi' },
        color,
        ...('field' in color && color.field === 'split' ? {} : { detail: { field: 'split' } }),
      },
    },
  ];
}

function bestLayers(rows: Row[], overlay: boolean, color: Record<string, unknown>): Record<string, unknown>[] {
  const best = rows.filter((r) => r.best);
  if (best.length === 0) return [];
  const filter = { filter: 'datum.best' };
  const diamond = {
    transform: [filter],
    mark: { type: 'point', shape: 'diamond', size: 110, filled: true, stroke: 'black', strokeWidth: 1 },
    encoding: { x: EPOCH_X, y: { field: 'value', type: 'quantitative' }, color },
  };
  if (overlay) return [diamond];
  const rule = {
    transform: [filter],
    mark: { type: 'rule', strokeDash: [4, 3], color: '#666' },
    encoding: { x: EPOCH_X },
  };
  // The label sits on the side of the rule with more room, so it never runs into the legend.
  const epochs = rows.map((r) => r.epoch as number);
  const right = (best[0]!.epoch as number) > (Math.min(...epochs) + Math.max(...epochs)) / 2;
  const label = {
    transform: [filter, { calculate: "'best epoch ' + datum.epoch", as: 'label' }],
    mark: {
      type: 'text',
      align: right ? 'right' : 'left',
      dx: right ? -4 : 4,
      dy: 2,
      baseline: 'top',
      color: '#444',
      fontSize: 10,
    },
    encoding: { x: EPOCH_X, y: { value: 0 }, text: { field: 'label' } },
  };
  return [rule, diamond, label];
}
