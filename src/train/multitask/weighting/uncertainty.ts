// Uncertainty weighting (Kendall et al. 2018) with s = log σ² learned per task alongside the model:
// L = Σ_t ½·e^(−s_t)·L_t + ½·s_t (LibMTL's form). The task weights are ½·e^(−s_t).
import { tf } from '../../../engine/backend/tf.ts';
import { lossWeightedStep } from '../steps.ts';
import type { WeightingFactory } from './types.ts';

export function uncertaintyObjective(losses: readonly number[], logVars: readonly number[]): number {
  return losses.reduce((acc, l, t) => acc + 0.5 * Math.exp(-logVars[t]!) * l + 0.5 * logVars[t]!, 0);
}

export function uncertaintyWeights(logVars: readonly number[]): number[] {
  return logVars.map((s) => 0.5 * Math.exp(-s));
}

/** LibMTL starts log σ² at −0.5. */
export const UNCERTAINTY_INIT = -0.5;

export const uncertainty: WeightingFactory = ({ tasks, ctx }) => {
  const logVars = tf.variable(tf.fill([tasks.length], UNCERTAINTY_INIT), true);
  const read = (): number[] => Array.from(logVars.dataSync());
  return {
    name: 'uncertainty',
    space: null,
    variables: [logVars],
    beginEpoch: () => {},
    step: (env) =>
      lossWeightedStep(
        env,
        (normed) => {
          const l = tf.stack(normed);
          return l.mul(tf.exp(logVars.neg())).mul(0.5).add(logVars.mul(0.5)).sum() as tf.Scalar;
        },
        [...ctx.modelVars, logVars],
        null,
      ),
    currentWeights: () => uncertaintyWeights(read()),
    dispose: () => logVars.dispose(),
  };
};
