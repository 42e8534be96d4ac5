// What every chart of a report shares: its size, a quiet look, fonts the reader already has (no
// web font may be fetched), and the wrapping of rows + encoding into a Vega-Lite spec.
import type { TopLevelSpec } from 'vega-lite';
import type { Chart, ChartFamily, Row } from './types.ts';

export const CHART_WIDTH = 340;
export const CHART_HEIGHT = 200;

/** Vega-Lite config: system sans-serif (nothing to download), light grid, room for long class names. */
export const VL_CONFIG = {
  font: 'sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#d0d0d0' },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', gridColor: '#ececec', labelLimit: 140 },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', labelLimit: 240 },
  range: { category: { scheme: 'tableau10' } },
} as const;

/** Epoch counts up to which lines also draw a dot per epoch (more would only clutter). */
const POINTS_UP_TO = 30;

export interface ChartInput {
  id: string;
  family: ChartFamily;
  title: string;
  caption: string;
  rows: Row[];
  /** The Vega-Lite view without data (mark/encoding or layer, transforms, sizes to override). */
  view: Record<string, unknown>;
}

export function makeChart(c: ChartInput): Chart {
  const spec = {
    description: `${c.title}. ${c.caption}`,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values: c.rows },
    config: VL_CONFIG,
    ...c.view,
  } as unknown as TopLevelSpec;
  return { id: c.id, family: c.family, title: c.title, caption: c.caption, rows: c.rows, spec };
}

/** A line mark, with a dot per epoch when there are few epochs. */
export function lineMark(points: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'line', point: points <= POINTS_UP_TO, strokeWidth: 2, ...extra };
}

/** The epoch x axis: whole numbers only. */
export const EPOCH_X = {
  field: 'epoch',
  type: 'quantitative',
  title: 'epoch',
  axis: { tickMinStep: 1, format: 'd' },
  scale: { nice: false },
} as const;

/** A log scale when positive values span more than `ratio` (learning rates, swept parameters). */
export function scaleFor(values: number[], ratio = 20): Record<string, unknown> {
  const pos = values.filter((v) => Number.isFinite(v));
  if (pos.length === 0 || pos.some((v) => v <= 0)) return { zero: false };
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  return hi / lo > ratio ? { type: 'log' } : { zero: false };
}

/** Stable slug for ids and anchors: lower case, [a-z0-9-] only. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** Number or null: JSON numbers pass, anything else (null, NaN written as null, strings) is null. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}

export function fixed(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** `97.65 ± 0.12` (percent) from a {mean, std}; the ± part only when there is spread to show. */
export function pctMeanStd(m: { mean: number; std: number } | null | undefined, withStd: boolean): string {
  if (!m || num(m.mean) === null) return '—';
  return withStd ? `${(m.mean * 100).toFixed(2)} ± ${((num(m.std) ?? 0) * 100).toFixed(2)}%` : pct(m.mean);
}

/**
 * `[layer]` when some row passes `test`, else `[]`: a layer whose filter leaves no data makes Vega
 * warn about an infinite extent, so layers for optional marks (spreads, seeds, cutoffs) are added
 * only when there is something to draw.
 */
export function layerIf<R>(
  rows: R[],
  test: (r: R) => boolean,
  layer: Record<string, unknown>,
): Record<string, unknown>[] {
  return rows.some(test) ? [layer] : [];
}

/** The rows of one `kind` (mean, seed, trial, point…) drawn with `mark`; nothing when there are none. */
export function kindLayer(
  rows: Row[],
  kind: string,
  mark: Record<string, unknown>,
  encoding: Record<string, unknown>,
): Record<string, unknown>[] {
  return layerIf(rows, (r) => r.kind === kind, { transform: [{ filter: `datum.kind === '${kind}'` }], mark, encoding });
}

/** A vertical line from value − k·spread to value + k·spread for rows of `kind` with a spread > 0. */
export function spreadLayer(
  rows: Row[],
  o: { kind: string; x: Record<string, unknown>; value: string; spread: string; k?: number; color?: string },
): Record<string, unknown>[] {
  const k = o.k ?? 1;
  return layerIf(rows, (r) => r.kind === o.kind && (r[o.spread] as number) > 0, {
    transform: [
      { filter: `datum.kind === '${o.kind}' && datum.${o.spread} > 0` },
      { calculate: `datum.${o.value} - ${k} * datum.${o.spread}`, as: 'lo' },
      { calculate: `datum.${o.value} + ${k} * datum.${o.spread}`, as: 'hi' },
    ],
    mark: { type: 'rule', color: o.color ?? 'black', strokeWidth: 1.5 },
    encoding: { x: o.x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
  });
}

/** A nominal colour scale with fixed colours per value. */
export function fixedColors(colors: Record<string, string>): Record<string, unknown> {
  return { domain: Object.keys(colors), range: Object.values(colors) };
}

/** A horizontal rule at y = 0 (gains, cosine similarity). */
export function zeroRule(color = '#888'): Record<string, unknown> {
  return {
    data: { values: [{ zero: 0 }] },
    mark: { type: 'rule', color },
    encoding: { y: { field: 'zero', type: 'quantitative' } },
  };
}

/**
 * A dashed rule at the best epoch with a "best epoch N" label on whichever side has more room, so
 * it never runs into the legend.
 */
export function bestEpochLayer(best: number, epochs: number[]): Record<string, unknown> {
  const right = best > (Math.min(...epochs) + Math.max(...epochs)) / 2;
  const text = {
    type: 'text',
    align: right ? 'right' : 'left',
    dx: right ? -4 : 4,
    dy: 2,
    baseline: 'top',
    fontSize: 10,
    color: '#444',
  };
  return {
    data: { values: [{ epoch: best, label: `best epoch ${best}` }] },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#666' }, encoding: { x: EPOCH_X } },
      { mark: text, encoding: { x: EPOCH_X, y: { value: 0 }, text: { field: 'label' } } },
    ],
  };
}
