// Learning curves of one run or several overlaid: loss and the monitored metric (train and
// validation) with the best epoch marked, the learning rate, and seconds per epoch. A series made of
// several runs (seeds of one config) is drawn as its mean with a ± std band.
import { meanStd } from '../../metrics/report.ts';
import { bestEpochLayer, EPOCH_X, lineMark, makeChart, num, scaleFor } from '../spec.ts';
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
  include?: CurveKind[];
}

type CurveKind = 'loss' | 'metric' | 'lr' | 'seconds';

/** The four families of curves; `metric` is the monitored metric's name (accuracy, macroF1). */
export function curveCharts(series: CurveSeries[], idPrefix: string, metric: string, o: CurveOptions = {}): Chart[] {
  const splits = o.splits ?? SPLIT_ORDER;
  const name = o.seriesName ?? 'run';
  const every = series.length > 1 ? `, every ${name}` : '';
  const valOnly = splits.length === 1 && splits[0] === 'validation';
  const title = (what: string): string =>
    `${valOnly ? `Validation ${what.charAt(0).toLowerCase()}${what.slice(1)}` : what} per epoch${every}`;
  const field = (obj: unknown, key: string): number | null =>
    num((obj as Record<string, unknown> | null | undefined)?.[key]);
  const split = (id: string, what: string, key: string) =>
    splitChart(series, {
      id: `${idPrefix}-${id}`,
      title: title(what),
      yTitle: key,
      picks: { train: (e) => field(e.train, key), validation: (e) => field(e.val, key) },
      splits,
      name,
    });
  const build: Record<CurveKind, () => Chart | null> = {
    loss: () => split('loss', 'Loss', 'loss'),
    metric: () => split(metric.toLowerCase(), metricTitle(metric), metric),
    lr: () =>
      singleChart(series, {
        id: `${idPrefix}-lr`,
        title: `Learning rate per epoch${every}`,
        yTitle: 'learning rate',
        pick: (e) => num(e.lr),
        name,
      }),
    seconds: () =>
      singleChart(series, {
        id: `${idPrefix}-seconds`,
        title: `Seconds per epoch${every}`,
        yTitle: 'seconds (training pass)',
        pick: (e) => num(e.seconds),
        name,
      }),
  };
  return (o.include ?? (['loss', 'metric', 'lr', 'seconds'] as CurveKind[]))
    .map((k) => build[k]())
    .filter((c): c is Chart => c !== null);
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
  };
  const layers: Record<string, unknown>[] = [...bandLayers(rows, color), { mark: lineMark(epochs), encoding }];
  layers.push(...bestLayers(rows, overlay, color));
  const caption = overlay
    ? `${dashed ? 'Solid lines are training, dashed lines validation; a' : 'A'} diamond marks each ${o.name}’s best epoch (chosen on validation)${series.some((s) => s.runs.length > 1) ? '; bands are ± 1 std over seeds' : ''}.`
    : 'The dashed rule marks the best epoch, chosen on validation; a validation curve that turns up while training keeps falling is over-fitting.';
  return makeChart({ id: o.id, family: 'curves', title: o.title, caption, rows, view: { layer: layers } });
}

/** One quantity per run (learning rate, seconds): one line per series. */
interface SingleChartOptions {
  id: string;
  title: string;
  yTitle: string;
  pick: Pick;
  name: string;
}

const SECONDS_CAPTION =
  'Wall time of the training pass over each epoch’s batches, validation excluded; the first epoch includes warm-up.';

function singleChart(series: CurveSeries[], o: SingleChartOptions): Chart | null {
  const rows = series.flatMap((s) => seriesRows(s, 'train', o.pick)).map(({ split: _, best: __, ...r }) => r);
  if (rows.length === 0) return null;
  const values = rows.map((r) => r.value as number);
  const color =
    series.length > 1
      ? { field: 'run', type: 'nominal', title: o.name, sort: series.map((s) => s.label) }
      : { value: '#4c78a8' };
  const lr = o.id.endsWith('-lr');
  const constant = Math.min(...values) === Math.max(...values);
  const caption = !lr
    ? SECONDS_CAPTION
    : constant
      ? `Constant learning rate (${values[0]}).`
      : 'The learning rate each epoch trained with (schedule, warm-up, phases of a fine-tune).';
  const y = { field: 'value', type: 'quantitative', title: o.yTitle, scale: scaleFor(values), axis: { format: '~g' } };
  const line = { mark: lineMark(new Set(rows.map((r) => r.epoch)).size), encoding: { x: EPOCH_X, y, color } };
  return makeChart({
    id: o.id,
    family: 'curves',
    title: o.title,
    caption,
    rows,
    view: { layer: [...bandLayers(rows, color), line] },
  });
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
  const diamond = {
    transform: [{ filter: 'datum.best' }],
    mark: { type: 'point', shape: 'diamond', size: 110, filled: true, stroke: 'black', strokeWidth: 1 },
    encoding: { x: EPOCH_X, y: { field: 'value', type: 'quantitative' }, color },
  };
  if (overlay) return [diamond];
  return [
    bestEpochLayer(
      best[0]!.epoch as number,
      rows.map((r) => r.epoch as number),
    ),
    diamond,
  ];
}
