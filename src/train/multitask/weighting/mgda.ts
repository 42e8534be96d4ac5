// MGDA (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization"): the min-norm
// point of the convex hull of the task gradients, found by the paper's Frank-Wolfe solver on the
// Gram matrix. Its weights α scale the task losses (MGDA-UB: gradients w.r.t. the representation).
import {
  assembleGradientStep,
  fusedLossWeightedStep,
  lossWeightedStep,
  perTaskGradients,
  representationGradients,
  weightedSum,
} from '../steps.ts';
import { methodBase, type Weighting, type WeightingContext, type WeightingFactory } from './types.ts';
import { combine, gradientDiagnostics, gramMatrix } from './vectors.ts';

/** The paper's solver limits (MinNormSolver.MAX_ITER, STOP_CRIT). */
const MAX_ITER = 250;
const STOP_CRIT = 1e-5;

/**
 * min_γ∈[0,1] ‖γ v1 + (1−γ) v2‖² from the three dot products: γ = (v2·v2 − v1·v2) / ‖v1 − v2‖²,
 * clipped to [0, 1]. Returns γ and the squared norm at the minimum.
 */
export function minNormTwo(v1v1: number, v1v2: number, v2v2: number): { gamma: number; cost: number } {
  if (v1v2 >= v1v1) return { gamma: 1, cost: v1v1 };
  if (v1v2 >= v2v2) return { gamma: 0, cost: v2v2 };
  const gamma = (v2v2 - v1v2) / (v1v1 + v2v2 - 2 * v1v2);
  return { gamma, cost: v2v2 + gamma * (v1v2 - v2v2) };
}

/** α on the simplex minimising ‖Σ α_t g_t‖², from the Gram matrix G[i][j] = g_i·g_j. */
export function minNormWeights(gram: number[][]): number[] {
  const T = gram.length;
  if (T === 1) return [1];
  let sol = bestPair(gram);
  for (let iter = 0; iter < MAX_ITER; iter++) {
    const Gs = gram.map((row) => row.reduce((a, v, j) => a + v * sol[j]!, 0));
    const t = Gs.indexOf(Math.min(...Gs));
    const v1v1 = sol.reduce((a, s, i) => a + s * Gs[i]!, 0);
    const { gamma } = minNormTwo(v1v1, Gs[t]!, gram[t]![t]!);
    const next = sol.map((s) => gamma * s);
    next[t]! += 1 - gamma;
    const change = next.reduce((a, v, i) => a + Math.abs(v - sol[i]!), 0);
    sol = next;
    if (change < STOP_CRIT) break;
  }
  return sol;
}

/** The solver's start: the best two-task solution over all pairs. */
function bestPair(gram: number[][]): number[] {
  const T = gram.length;
  let best = { cost: Infinity, i: 0, j: 1, gamma: 1 };
  for (let i = 0; i < T; i++) {
    for (let j = i + 1; j < T; j++) {
      const r = minNormTwo(gram[i]![i]!, gram[i]![j]!, gram[j]![j]!);
      if (r.cost < best.cost) best = { cost: r.cost, i, j, gamma: r.gamma };
    }
  }
  const sol = new Array<number>(T).fill(0);
  sol[best.i] = best.gamma;
  sol[best.j] = 1 - best.gamma;
  return sol;
}

/**
 * On the shared parameters: α from the per-task gradients scales both the shared update and the
 * heads. With one shared representation (hard sharing, single input) the paper's MGDA-UB instead.
 */
export const mgda: WeightingFactory = ({ ctx }) =>
  ctx.representation
    ? mgdaUpperBound(ctx)
    : {
        ...methodBase('mgda'),
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

/** MGDA-UB: the min-norm weights of the gradients w.r.t. the shared representation, one backward pass. */
function mgdaUpperBound(ctx: WeightingContext): Weighting {
  return {
    ...methodBase('mgda'),
    space: 'representation',
    step: (env) => {
      const { grads, gram } = representationGradients(env);
      const alpha = minNormWeights(gram);
      const out = fusedLossWeightedStep(env, alpha) ?? lossWeightedStep(env, weightedSum(alpha), ctx.modelVars, alpha);
      out.diagnostics = gradientDiagnostics(grads, gram);
      return out;
    },
  };
}
