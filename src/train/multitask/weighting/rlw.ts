// RLW (Lin et al. 2021, "Reasonable Effectiveness of Random Weighting"): softmax of N(0, 1) draws,
// new every step, from the run's own seeded stream.
import { lossWeighting, type WeightingFactory } from './types.ts';
import { softmax } from './vectors.ts';

export function rlwWeights(T: number, normal: () => number): number[] {
  return softmax(Array.from({ length: T }, normal));
}

export const rlw: WeightingFactory = ({ tasks, ctx }) =>
  lossWeighting('rlw', ctx, () => rlwWeights(tasks.length, () => ctx.rng.normal()));
