// `static`: Σ_t w_t L_t with each task's fixed `weight` from the config.
import { lossWeighting, type WeightingFactory } from './types.ts';

export const staticWeights: WeightingFactory = ({ tasks, ctx }) => {
  const w = tasks.map((t) => t.weight);
  return lossWeighting('static', ctx, () => w);
};
