// PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning"): each task's gradient is
// projected onto the normal plane of every other task's gradient it conflicts with (negative dot
// product), in a random order; the update is the sum of the projected gradients.
import { assembleGradientStep, perTaskGradients } from '../steps.ts';
import { methodBase, type WeightingFactory } from './types.ts';
import { dot, type GradientMatrix } from './vectors.ts';

/**
 * `orders[i]` is the order in which task i visits the others (the paper shuffles it every step);
 * projections use the other tasks' original gradients, as in the paper's Algorithm 1.
 */
export function pcgradProject(grads: GradientMatrix, orders?: readonly (readonly number[])[]): Float32Array {
  const T = grads.length;
  const sqNorms = grads.map((g) => dot(g, g));
  const out = new Float32Array(grads[0]?.length ?? 0);
  for (let i = 0; i < T; i++) {
    const gi = Float64Array.from(grads[i]!);
    const order = orders?.[i] ?? [...Array(T).keys()];
    for (const j of order) {
      if (j === i || sqNorms[j] === 0) continue;
      const gj = grads[j]!;
      const d = dot(gi, gj);
      if (d < 0) {
        const k = d / sqNorms[j]!;
        for (let p = 0; p < gi.length; p++) gi[p]! -= k * gj[p]!;
      }
    }
    for (let p = 0; p < out.length; p++) out[p]! += gi[p]!;
  }
  return out;
}

/** The paper's per-step shuffle: a random visiting order for every task, from `random` in [0, 1). */
export function shuffledOrders(T: number, random: () => number): number[][] {
  return Array.from({ length: T }, () => {
    const order = [...Array(T).keys()];
    for (let k = T - 1; k > 0; k--) {
      const r = Math.floor(random() * (k + 1));
      [order[k], order[r]] = [order[r]!, order[k]!];
    }
    return order;
  });
}

export const pcgrad: WeightingFactory = ({ tasks, ctx }) => ({
  ...methodBase('pcgrad'),
  space: 'shared-parameters',
  step: (env) => {
    const g = perTaskGradients(env);
    // A fresh random visiting order per task and step (Yu et al. 2020, Algorithm 1).
    const orders = shuffledOrders(tasks.length, () => ctx.rng.next());
    return assembleGradientStep(env, g, {
      direction: pcgradProject(g.shared, orders),
      headScale: tasks.map(() => 1),
      weights: null,
    });
  },
});
