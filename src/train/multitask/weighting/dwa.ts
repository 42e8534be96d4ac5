// DWA (Liu et al. 2019, "End-to-End Multi-Task Learning with Attention"): task weights from the
// rate at which each task's training loss fell over the last two epochs.
import { lossWeighting, type WeightingFactory } from './types.ts';
import { softmax } from './vectors.ts';

/**
 * w_k = K·softmax_k(r_k / T), r_k = L_k(e−1) / L_k(e−2) from epoch-average training losses;
 * w = 1 for the first two epochs.
 */
export function dwaWeights(history: readonly (readonly number[])[], T: number, temperature: number): number[] {
  if (history.length < 2) return new Array<number>(T).fill(1);
  const last = history[history.length - 1]!;
  const before = history[history.length - 2]!;
  const ratios = last.map((l, k) => l / Math.max(before[k]!, 1e-12));
  return softmax(ratios.map((r) => r / temperature)).map((s) => s * T);
}

export const dwa: WeightingFactory = ({ cfg, tasks, ctx }) => {
  let w = tasks.map(() => 1);
  return {
    ...lossWeighting('dwa', ctx, () => w),
    beginEpoch: (history) => {
      w = dwaWeights(history, tasks.length, cfg.dwaTemperature);
    },
  };
};
