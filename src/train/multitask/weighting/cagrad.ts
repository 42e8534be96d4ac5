// CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task Learning"): the update
// maximises the worst task's improvement within a ball of radius c‖g0‖ around the mean gradient g0.
// Its dual is a small convex problem over the simplex, solved here from the Gram matrix alone.
import { assembleGradientStep, perTaskGradients } from '../steps.ts';
import { methodBase, type WeightingFactory } from './types.ts';
import { combine, type GradientMatrix, gramMatrix } from './vectors.ts';

export interface CagradResult {
  /** The update direction d = (g0 + λ g_w) / (1 + c²) (the official code's rescale = 1). */
  direction: Float32Array;
  /** Dual weights w on the simplex. */
  dual: number[];
  /** d = Σ_t weights[t] g_t: the effective task weights (1/T + λ w_t) / (1 + c²). */
  weights: number[];
}

const FW_ITERS = 200;
const LINE_ITERS = 100;

/**
 * min_w∈Δ  wᵀ G 1/T + c‖g0‖ · √(wᵀ G w), with ‖g0‖² = mean(G); then λ = c‖g0‖ / ‖g_w‖ (the
 * official implementation, including its 1e-8 guards).
 */
export function cagradDirection(grads: GradientMatrix, c: number, gram: number[][] = gramMatrix(grads)): CagradResult {
  const T = grads.length;
  const meanG = gram.flat().reduce((a, b) => a + b, 0) / (T * T);
  const scaledC = c * Math.sqrt(meanG + 1e-8) + 1e-8;
  const objective = (w: number[]): number => quad(gram, w, uniform(T)) + scaledC * Math.sqrt(quad(gram, w, w) + 1e-8);
  const dual = minimizeOnSimplex(objective, (w) => gradient(gram, w, scaledC), T);
  const gwNorm = Math.sqrt(Math.max(quad(gram, dual, dual), 0));
  const lambda = scaledC / (gwNorm + 1e-8);
  const weights = dual.map((w) => (1 / T + lambda * w) / (1 + c * c));
  return { direction: combine(weights, grads), dual, weights };
}

function uniform(T: number): number[] {
  return new Array<number>(T).fill(1 / T);
}

/** aᵀ G b. */
function quad(G: number[][], a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) s += a[i]! * G[i]![j]! * b[j]!;
  return s;
}

function gradient(G: number[][], w: number[], scaledC: number): number[] {
  const T = w.length;
  const Gw = G.map((row) => row.reduce((a, v, j) => a + v * w[j]!, 0));
  const Gb = G.map((row) => row.reduce((a, v) => a + v / T, 0));
  const n = Math.sqrt(quad(G, w, w) + 1e-8);
  return Gb.map((b, i) => b + (scaledC * Gw[i]!) / n);
}

/** Frank-Wolfe with an exact (golden-section) line search: F is convex, T is small. */
export function minimizeOnSimplex(f: (w: number[]) => number, grad: (w: number[]) => number[], T: number): number[] {
  let w = uniform(T);
  for (let iter = 0; iter < FW_ITERS; iter++) {
    const g = grad(w);
    const vertex = g.indexOf(Math.min(...g));
    const target = w.map((_, i) => (i === vertex ? 1 : 0));
    const along = (s: number): number[] => w.map((wi, i) => wi + s * (target[i]! - wi));
    const step = goldenSection((s) => f(along(s)));
    if (step < 1e-12) break;
    w = along(step);
  }
  return w;
}

/** argmin over [0, 1] of a convex function. */
function goldenSection(f: (s: number) => number): number {
  const r = (Math.sqrt(5) - 1) / 2;
  let a = 0;
  let b = 1;
  for (let k = 0; k < LINE_ITERS && b - a > 1e-15; k++) {
    const c = b - r * (b - a);
    const d = a + r * (b - a);
    if (f(c) <= f(d)) b = d;
    else a = c;
  }
  const mid = (a + b) / 2;
  // The interior point can lose to the segment's start when F is flat there: never move for nothing.
  return f(mid) < f(0) ? mid : 0;
}

export const cagrad: WeightingFactory = ({ cfg, tasks }) => ({
  ...methodBase('cagrad'),
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
});
