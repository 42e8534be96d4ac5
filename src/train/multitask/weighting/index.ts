// The weighting methods of `multitask.weighting`, each a small object the multi-task program calls
// once per step: loss weighting (equal, static, uncertainty, dwa, rlw) or gradient methods
// (gradnorm, pcgrad, mgda, cagrad) built on the pure functions of ./weighting/.
import type { MultitaskConfig, TaskConfig, WeightingName } from '../../../config/types.ts';
import { tf } from '../../../engine/backend/tf.ts';
import type { Rng } from '../../../random/rng.ts';
import {
  assembleGradientStep,
  lossWeightedStep,
  perTaskGradients,
  representationGradients,
  type StepEnv,
  type StepOutcome,
  weightedSum,
} from '../steps.ts';
import { cagradDirection } from './cagrad.ts';
import {
  dwaWeights,
  gradnormWeightGrad,
  rlwWeights,
  softmaxWeights,
  softmaxWeightsBackward,
  UNCERTAINTY_INIT,
  uncertaintyWeights,
} from './loss-weights.ts';
import { minNormWeights } from './mgda.ts';
import { pcgradProject, shuffledOrders } from './pcgrad.ts';
import { combine, gradientDiagnostics, gramMatrix, norm } from './vectors.ts';

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

export function createWeighting(cfg: MultitaskConfig, tasks: readonly TaskConfig[], ctx: WeightingContext): Weighting {
  const T = tasks.length;
  const base = { name: cfg.weighting, space: null, variables: [], beginEpoch: () => {}, dispose: () => {} };
  const fixed = (w: number[]): Weighting => ({
    ...base,
    step: (env) => lossWeightedStep(env, weightedSum(w), ctx.modelVars, w),
  });
  switch (cfg.weighting) {
    case 'equal':
      return fixed(tasks.map(() => 1));
    case 'static':
      return fixed(tasks.map((t) => t.weight));
    case 'dwa': {
      let w = tasks.map(() => 1);
      return {
        ...base,
        beginEpoch: (h) => (w = dwaWeights(h, T, cfg.dwaTemperature)),
        step: (env) => lossWeightedStep(env, weightedSum(w), ctx.modelVars, w),
      };
    }
    case 'rlw':
      return {
        ...base,
        step: (env) => {
          const w = rlwWeights(T, () => ctx.rng.normal());
          return lossWeightedStep(env, weightedSum(w), ctx.modelVars, w);
        },
      };
    case 'uncertainty':
      return uncertainty(T, ctx);
    case 'gradnorm':
      return gradnorm(T, cfg.gradnormAlpha, ctx);
    case 'pcgrad':
      return {
        ...base,
        space: 'shared-parameters',
        step: (env) => {
          const g = perTaskGradients(env);
          // A fresh random visiting order per task and step (Yu et al. 2020, Algorithm 1).
          const orders = shuffledOrders(T, () => ctx.rng.next());
          return assembleGradientStep(env, g, {
            direction: pcgradProject(g.shared, orders),
            headScale: tasks.map(() => 1),
            weights: null,
          });
        },
      };
    case 'mgda':
      return ctx.representation
        ? mgdaUpperBound(ctx)
        : {
            ...base,
            space: 'shared-parameters',
            step: (env) => {
              const g = perTaskGradients(env);
              const alpha = minNormWeights(gramMatrix(g.shared));
              return assembleGradientStep(env, g, {
                direction: combine(alpha, g.shared),
                headScale: alpha,
                weights: alpha,
              });
            },
          };
    case 'cagrad':
      return {
        ...base,
        space: 'shared-parameters',
        step: (env) => {
          const g = perTaskGradients(env);
          const r = cagradDirection(g.shared, cfg.cagradC);
          return assembleGradientStep(env, g, {
            direction: r.direction,
            headScale: tasks.map(() => 1),
            weights: r.weights,
          });
        },
      };
  }
}

/** Kendall et al. 2018: L = Σ ½e^(−s_t)·L̂_t + ½s_t with s = log σ² learned alongside the model. */
function uncertainty(T: number, ctx: WeightingContext): Weighting {
  const logVars = tf.variable(tf.fill([T], UNCERTAINTY_INIT), true);
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
}

/**
 * GradNorm (Chen et al. 2018) on the last shared layer's kernel: the weights w = T·softmax(z) get
 * ∂L_grad/∂z through the same optimizer as the model; shared and heads follow Σ w_t ∇L̂_t.
 */
function gradnorm(T: number, alpha: number, ctx: WeightingContext): Weighting {
  const logits = tf.variable(tf.zeros([T]), true);
  const { offset, size } = ctx.gradnormSlice;
  return {
    name: 'gradnorm',
    space: 'shared-parameters',
    variables: [logits],
    beginEpoch: () => {},
    step: (env) => {
      const z = Array.from(logits.dataSync());
      const w = softmaxWeights(z);
      const g = perTaskGradients(env);
      const ratios = g.losses.map((l, t) => l.dataSync()[0]! / Math.max(env.initial[t]!, 1e-12));
      const gradNorms = g.shared.map((flat) => norm(flat.subarray(offset, offset + size)));
      const { grad } = gradnormWeightGrad({ weights: w, gradNorms, lossRatios: ratios, alpha });
      const out = assembleGradientStep(env, g, { direction: combine(w, g.shared), headScale: w, weights: w });
      out.grads[logits.name] = tf.tensor1d(softmaxWeightsBackward(z, grad));
      return out;
    },
    currentWeights: () => softmaxWeights(Array.from(logits.dataSync())),
    dispose: () => logits.dispose(),
  };
}

function mgdaUpperBound(ctx: WeightingContext): Weighting {
  return {
    name: 'mgda',
    space: 'representation',
    variables: [],
    beginEpoch: () => {},
    dispose: () => {},
    step: (env) => {
      const { grads, gram } = representationGradients(env);
      const alpha = minNormWeights(gram);
      const out = lossWeightedStep(env, weightedSum(alpha), ctx.modelVars, alpha);
      out.diagnostics = gradientDiagnostics(grads, gram);
      return out;
    },
  };
}
