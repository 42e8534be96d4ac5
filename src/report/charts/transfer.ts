// Whether transfer helped: target test accuracy per strategy (± std over seeds, each seed a dot)
// against the from-scratch `reinit` baseline and chance, and each strategy's gain over `reinit`
// with its noise band (± 2 standard errors, the band inside which a gain is not a finding).
import { fixedColors, kindLayer, makeChart, spreadLayer, zeroRule } from '../spec.ts';
import type { Chart, Row } from '../types.ts';

export interface StrategyResult {
  strategy: string;
  mean: number;
  std: number;
  /** Test accuracy of each seed's child run. */
  perSeed: Array<{ seed: number; accuracy: number }>;
}

export interface StrategyGain {
  strategy: string;
  /** Strategy minus reinit, as a fraction (0.012 = +1.2 pp). */
  mean: number;
  /** Standard error of the mean gain (seeds and test-set sampling, in quadrature). */
  se: number;
  verdict: string;
}

const ROLE_COLORS = { transfer: '#4c78a8', baseline: '#9d9d9d', 'zero-shot': '#e4a33b' };
const VERDICT_COLORS = { helps: '#2f9e44', 'no clear effect': '#868e96', hurts: '#e03131' };

export function strategyAccuracyChart(results: StrategyResult[], chance: number | null, id: string): Chart {
  const role = (s: string): string => (s === 'reinit' ? 'baseline' : s === 'zero-shot' ? 'zero-shot' : 'transfer');
  const rows: Row[] = results.flatMap((r) => [
    { strategy: r.strategy, role: role(r.strategy), kind: 'mean', accuracy: r.mean, std: r.std, seed: null },
    ...r.perSeed.map((p) => ({
      strategy: r.strategy,
      role: role(r.strategy),
      kind: 'seed',
      accuracy: p.accuracy,
      std: null,
      seed: p.seed,
    })),
  ]);
  const x = strategyAxis(results.map((r) => r.strategy));
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'target test accuracy',
    scale: { domain: [0, 1] },
    axis: { format: '.0%' },
  };
  const color = { field: 'role', type: 'nominal', title: null, scale: fixedColors(ROLE_COLORS) };
  const reinit = results.find((r) => r.strategy === 'reinit');
  const layers = [
    ...kindLayer(rows, 'mean', { type: 'bar', width: { band: 0.6 } }, { x, y, color }),
    ...spreadLayer(rows, { kind: 'mean', x, value: 'accuracy', spread: 'std' }),
    ...kindLayer(rows, 'seed', { type: 'point', filled: true, size: 22, color: '#222', opacity: 0.7 }, { x, y }),
    ...(reinit ? [referenceLine(reinit.mean, 'reinit (from scratch)', [6, 3])] : []),
    ...(chance !== null ? [referenceLine(chance, 'chance', [2, 2])] : []),
  ];
  const seeds = Math.max(...results.map((r) => r.perSeed.length));
  const caption =
    `Bars are the mean over ${seeds} seed${seeds === 1 ? '' : 's'}${seeds > 1 ? ' with ± 1 std' : ''}, dots single seeds. ` +
    'The dashed line is training from scratch (reinit) with the same budget, the dotted line chance.';
  const title = 'Target test accuracy by strategy';
  return makeChart({ id, family: 'transfer', title, caption, rows, view: { layer: layers } });
}

export function gainChart(gains: StrategyGain[], id: string): Chart {
  const rows: Row[] = gains.map((g) => ({
    strategy: g.strategy,
    gainPp: g.mean * 100,
    lowPp: (g.mean - 2 * g.se) * 100,
    highPp: (g.mean + 2 * g.se) * 100,
    verdict: g.verdict,
  }));
  const x = strategyAxis(gains.map((g) => g.strategy));
  const color = { field: 'verdict', type: 'nominal', title: 'verdict', scale: fixedColors(VERDICT_COLORS) };
  const band = { type: 'rule', strokeWidth: 6, opacity: 0.35 };
  const y = { field: 'lowPp', type: 'quantitative', title: 'gain vs reinit (pp)' };
  const layers = [
    zeroRule('#444'),
    { mark: band, encoding: { x, y, y2: { field: 'highPp' }, color } },
    {
      mark: { type: 'point', filled: true, size: 70 },
      encoding: { x, y: { field: 'gainPp', type: 'quantitative' }, color },
    },
  ];
  const caption =
    'Each dot is a strategy’s gain over training from scratch; the bar is its noise band (± 2 standard errors of seeds and test-set sampling). ' +
    'A band that crosses zero is no clear effect.';
  const title = 'Transfer gain over training from scratch';
  return makeChart({ id, family: 'transfer', title, caption, rows, view: { layer: layers } });
}

function strategyAxis(order: string[]): Record<string, unknown> {
  return { field: 'strategy', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } };
}

/** A horizontal line at `y` with a label at its right end. */
function referenceLine(y: number, label: string, dash: number[]): Record<string, unknown> {
  return {
    data: { values: [{ y, label }] },
    layer: [
      {
        mark: { type: 'rule', strokeDash: dash, color: '#333' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'right', dy: -5, fontSize: 10, color: '#333' },
        encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 'width' }, text: { field: 'label' } },
      },
    ],
  };
}
