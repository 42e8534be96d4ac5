// Loss-weighting rules that need no per-task gradients on the shared parameters (DWA, RLW,
// uncertainty), and GradNorm's weight update, which needs only gradient norms at one layer.

/**
 * DWA (Liu et al. 2019, "End-to-End Multi-Task Learning with Attention"): w_k = K·softmax_k(r_k / T),
 * r_k = L_k(e−1) / L_k(e−2) from epoch-average training losses; w = 1 for the first two epochs.
 */
export function dwaWeights(history: readonly (readonly number[])[], T: number, temperature: number): number[] {
  if (history.length < 2) return new Array<number>(T).fill(1);
  const last = history[history.length - 1]!;
  const before = history[history.length - 2]!;
  const ratios = last.map((l, k) => l / Math.max(before[k]!, 1e-12));
  return softmax(ratios.map((r) => r / temperature)).map((s) => s * T);
}

/** RLW (Lin et al. 2021, "Reasonable Effectiveness of Random Weighting"): softmax of N(0, 1) draws, every step. */
export function rlwWeights(T: number, normal: () => number): number[] {
  return softmax(Array.from({ length: T }, normal));
}

/**
 * Uncertainty weighting (Kendall et al. 2018) with s = log σ² learned per task:
 * L = Σ_t ½·e^(−s_t)·L_t + ½·s_t (LibMTL's form). The task weights are ½·e^(−s_t).
 */
export function uncertaintyObjective(losses: readonly number[], logVars: readonly number[]): number {
  return losses.reduce((acc, l, t) => acc + 0.5 * Math.exp(-logVars[t]!) * l + 0.5 * logVars[t]!, 0);
}

export function uncertaintyWeights(logVars: readonly number[]): number[] {
  return logVars.map((s) => 0.5 * Math.exp(-s));
}

/** LibMTL starts log σ² at −0.5. */
export const UNCERTAINTY_INIT = -0.5;

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
 * GradNorm (Chen et al. 2018): G_t = w_t‖∇_W L_t‖, target_t = mean(G)·(r_t)^α with
 * r_t = L̃_t / mean(L̃); L_grad = Σ|G_t − target_t| with the target held constant, so
 * ∂L_grad/∂w_t = sign(G_t − target_t)·‖∇_W L_t‖.
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

export function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
