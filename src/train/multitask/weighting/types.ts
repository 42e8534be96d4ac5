// What a weighting method is: a small object the multi-task program calls once per step, made by
// the method's factory from the config. Loss weighting (one backward pass of Σ w_t L_t) or a gradient
// method (a backward pass per task on the shared parameters, combined by a pure function).
import type { MultitaskConfig, TaskConfig, WeightingName } from '../../../config/types.ts';
import type { tf } from '../../../engine/backend/tf.ts';
import type { Rng } from '../../../random/rng.ts';
import { lossWeightedStep, type StepEnv, type StepOutcome, weightedSum } from '../steps.ts';

/** Where conflict diagnostics were measured: the shared parameters or the shared representation. */
export type GradientSpace = 'shared-parameters' | 'representation';

export interface Weighting {
  name: WeightingName;
  /** Null for loss weighting (no per-task gradients are computed). */
  space: GradientSpace | null;
  /** Variables the method itself learns (uncertainty's log σ², GradNorm's weight logits). */
  variables: tf.Variable[];
  /** Epoch-average raw training losses of the finished epochs, oldest first. */
  beginEpoch(history: number[][]): void;
  step(env: StepEnv): StepOutcome;
  /** Weights as they stand now, for methods whose weights are learned. */
  currentWeights?(): number[];
  dispose(): void;
}

export interface WeightingContext {
  rng: Rng;
  /** Trainable model variables (shared and heads). */
  modelVars: tf.Variable[];
  /** Offset and size, in the flattened shared gradient, of GradNorm's layer W (the last shared kernel). */
  gradnormSlice: { offset: number; size: number };
  /** True when MGDA can work on one shared representation (hard sharing, single input). */
  representation: boolean;
}

export interface WeightingArgs {
  cfg: MultitaskConfig;
  tasks: readonly TaskConfig[];
  ctx: WeightingContext;
}

export type WeightingFactory = (args: WeightingArgs) => Weighting;

/** The parts every method shares unless it says otherwise: no learned variables, nothing per epoch. */
export function methodBase(name: WeightingName): Omit<Weighting, 'step'> {
  return { name, space: null, variables: [], beginEpoch: () => {}, dispose: () => {} };
}

/** Loss weighting with weights that `weights()` gives at each step: one backward pass of Σ w_t L_t. */
export function lossWeighting(name: WeightingName, ctx: WeightingContext, weights: () => number[]): Weighting {
  return {
    ...methodBase(name),
    step: (env) => {
      const w = weights();
      return lossWeightedStep(env, weightedSum(w), ctx.modelVars, w);
    },
  };
}
