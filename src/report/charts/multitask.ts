// Multi-task trade-offs: per-task curves (against each task's single-task baseline when it ran),
// task weights per epoch, the pairwise cosine similarity of task gradients (negative = the tasks
// pull the shared weights apart), and each task against its baseline with Δm.
import { bestEpochLayer, EPOCH_X, lineMark, makeChart, zeroRule } from '../spec.ts';
import type { Chart, Row } from '../types.ts';

interface EpochLinesOptions {
  id: string;
  title: string;
  caption: string;
  yTitle: string;
  rows: Row[];
  /** Field naming a line's colour (task, pair). */
  color: string;
  /** Field naming a line's dash (split, model), if any. */
  dash?: string;
  dashOrder?: string[];
  zeroRule?: boolean;
  bestEpoch?: number | null;
  yDomain?: [number, number];
}

/** Lines over epochs, one colour per task (or task pair), optionally dashed by a second field. */
export function epochLinesChart(o: EpochLinesOptions): Chart {
  const epochs = new Set(o.rows.map((r) => r.epoch)).size;
  const encoding = {
    x: EPOCH_X,
    y: {
      field: 'value',
      type: 'quantitative',
      title: o.yTitle,
      scale: o.yDomain ? { domain: o.yDomain } : { zero: false },
      axis: { format: '~g' },
    },
    color: { field: o.color, type: 'nominal', title: o.color },
    ...(o.dash ? { strokeDash: { field: o.dash, type: 'nominal', title: null, sort: o.dashOrder } } : {}),
  };
  const layers: Record<string, unknown>[] = [
    ...(o.zeroRule ? [zeroRule()] : []),
    { mark: lineMark(epochs), encoding },
    ...(o.bestEpoch
      ? [
          bestEpochLayer(
            o.bestEpoch,
            o.rows.map((r) => r.epoch as number),
          ),
        ]
      : []),
  ];
  return makeChart({
    id: o.id,
    family: 'multitask',
    title: o.title,
    caption: o.caption,
    rows: o.rows,
    view: { layer: layers },
  });
}

export interface TaskVsBaseline {
  task: string;
  multiTask: number;
  singleTask: number;
}

/** Test accuracy of each task, multi-task model next to the task trained alone. */
export function baselineChart(
  entries: TaskVsBaseline[],
  deltaM: { dropPct: number; deltaPPct: number },
  id: string,
): Chart {
  const models = ['multi-task', 'single-task'];
  const rows: Row[] = entries.flatMap((e) => [
    { task: e.task, model: 'multi-task', accuracy: e.multiTask },
    { task: e.task, model: 'single-task', accuracy: e.singleTask },
  ]);
  const view = {
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'task', type: 'nominal', title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'model', sort: models },
      y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy', axis: { format: '.0%' } },
      color: { field: 'model', type: 'nominal', sort: models, title: null, scale: { range: ['#4c78a8', '#9d9d9d'] } },
    },
  };
  const sign = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}%`;
  const caption =
    `Δm (Maninis et al. 2019, average drop, lower is better) ${sign(deltaM.dropPct)}; ` +
    `Δp (LibMTL, average gain, higher is better) ${sign(deltaM.deltaPPct)}. Same architecture, data, budget and seed.`;
  return makeChart({
    id,
    family: 'multitask',
    title: 'Each task against its single-task baseline',
    caption,
    rows,
    view,
  });
}
