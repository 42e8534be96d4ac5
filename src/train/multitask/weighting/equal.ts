// `equal`: Σ_t L_t, every task weighted 1 (the baseline every method is compared with).
import { lossWeighting, type WeightingFactory } from './types.ts';

export const equal: WeightingFactory = ({ tasks, ctx }) => {
  const w = tasks.map(() => 1);
  return lossWeighting('equal', ctx, () => w);
};
