// GradNorm (Chen et al. 2018, "GradNorm: Gradient Normalization for Adaptive Loss Balancing"):
// task weights learned so that each task's gradient norm at the last shared layer W trains at a
// rate matched to its relative loss decrease.
import { tf } from '../../../engine/backend/tf.ts';
import { assembleGradientStep, perTaskGradients } from '../steps.ts';
import type { WeightingFactory } from './types.ts';
import { combine, mean, norm, softmax } from './vectors.ts';

export interface GradNormInputs {
  /** Current task weights w_t (they sum to T). */
  weights: readonly number[];
  /** ‖∇_W L_t‖ at the last shared layer W, unweighted. */
  gradNorms: readonly number[];
  /** L_t(step) / L_t(0). */
  lossRatios: readonly number[];
  /** Asymmetry α. */
  alpha: number;
}

/**
 * G_t = w_t‖∇_W L_t‖, target_t = mean(G)·(r_t)^α with r_t = L̃_t / mean(L̃); L_grad = Σ|G_t − target_t|
 * with the target held constant, so ∂L_grad/∂w_t = sign(G_t − target_t)·‖∇_W L_t‖.
 */
export function gradnormWeightGrad(o: GradNormInputs): { grad: number[]; lossGrad: number } {
  const G = o.weights.map((w, t) => w * o.gradNorms[t]!);
  const meanG = mean(G);
  const meanRatio = mean(o.lossRatios);
  const targets = o.lossRatios.map((r) => meanG * (r / meanRatio) ** o.alpha);
  const grad = G.map((g, t) => Math.sign(g - targets[t]!) * o.gradNorms[t]!);
  return { grad, lossGrad: G.reduce((a, g, t) => a + Math.abs(g - targets[t]!), 0) };
}

/**
 * Weights kept as w = T·softmax(z) (LibMTL's parametrisation: positive, summing to T, as GradNorm
 * renormalises them): the chain rule from ∂/∂w to ∂/∂z, ∂z_j = T·s_j·(∂w_j − Σ_i s_i ∂w_i).
 */
export function softmaxWeightsBackward(logits: readonly number[], gradW: readonly number[]): number[] {
  const s = softmax(logits);
  const T = logits.length;
  const inner = s.reduce((a, si, i) => a + si * gradW[i]!, 0);
  return s.map((sj, j) => T * sj * (gradW[j]! - inner));
}

export function softmaxWeights(logits: readonly number[]): number[] {
  return softmax(logits).map((s) => s * logits.length);
}

/**
 * The weights w = T·softmax(z) get ∂L_grad/∂z through the same optimizer as the model; shared and heads follow Σ w_t
 * ∇L̂_t.
 */
export const gradnorm: WeightingFactory = ({ cfg, tasks, ctx }) => {
  const logits = tf.variable(tf.zeros([tasks.length]), true);
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
      const { grad } = gradnormWeightGrad({ weights: w, gradNorms, lossRatios: ratios, alpha: cfg.gradnormAlpha });
      const out = assembleGradientStep(env, g, { direction: combine(w, g.shared), headScale: w, weights: w });
      out.grads[logits.name] = tf.tensor1d(softmaxWeightsBackward(z, grad));
      return out;
    },
    currentWeights: () => softmaxWeights(Array.from(logits.dataSync())),
    dispose: () => logits.dispose(),
  };
};
