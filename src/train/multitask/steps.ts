// The three kinds of multi-task gradient step. Loss weighting: one backward pass of Σ w_t L_t.
// Gradient methods: a backward pass per task on the shared parameters, combined by a pure function
// of the flattened gradients. MGDA-UB: task gradients w.r.t. the shared representation only. Each
// has a fused form (engine/fused/cnn.ts) that the program plans where the network allows.
import type { LossNormalization, RegularizationConfig } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import {
  type FusedCnnPlan,
  type FusedTaskGradsPlan,
  fusedCnnStep,
  fusedRepresentationGradients,
  fusedTaskGradients,
} from '../../engine/fused/cnn.ts';
import type { MultiTaskModel } from '../../models/multitask/build.ts';
import { regularizationPenalty } from '../regularization.ts';
import {
  type DistillSettings,
  flattenGrads,
  forwardTasks,
  headLogits,
  normalizeLoss,
  type StepBatch,
  type TaskInfo,
  taskLoss,
  trunkReps,
  unflattenGrads,
} from './forward.ts';
import { type GradientDiagnostics, gradientDiagnostics, gramMatrix } from './weighting/vectors.ts';

export interface StepEnv {
  model: MultiTaskModel;
  batch: StepBatch;
  tasks: TaskInfo[];
  distill: DistillSettings | null;
  normalize: LossNormalization;
  /** First-step raw losses (set on the first step; used by `initial` normalisation and GradNorm). */
  initial: number[];
  shared: tf.Variable[];
  heads: tf.Variable[][];
  kernels: tf.Variable[];
  regularization: RegularizationConfig;
  /**
   * The fused per-task gradients kernel (engine/fused/cnn.ts) and this step's rows of the training
   * set, where the program planned it (hard sharing, one input group, no teacher, no masked labels,
   * no loss normalisation): perTaskGradients and representationGradients then take it.
   */
  fused?: FusedTaskStep | null;
}

export interface FusedTaskStep {
  plan: FusedTaskGradsPlan;
  /** The fused training step (Adam over every model variable) for fusedLossWeightedStep, or null. */
  step?: FusedCnnPlan | null;
  /** The training examples and each task's labels; `index` the batch's rows of them. */
  x: tf.Tensor;
  labels: tf.Tensor[];
  index: Int32Array;
}

export interface StepOutcome {
  /** Gradients to apply (owned by the caller). */
  grads: tf.NamedTensorMap;
  /** The objective Σ w_t L̂_t (+ λR) that was minimised. */
  objective: tf.Scalar;
  /** Raw per-task losses and correct counts (kept; owned by the caller). */
  losses: tf.Scalar[];
  correct: tf.Scalar[];
  /** The task weights this step used, or null (PCGrad has none). */
  weights: number[] | null;
  diagnostics?: GradientDiagnostics;
  /** The step already updated the variables (the fused step's own Adam): `grads` is empty. */
  applied?: boolean;
}

/** How a loss-weighted objective is formed from the normalised task losses. */
export type LossCombiner = (normed: tf.Scalar[]) => tf.Scalar;

export function weightedSum(weights: readonly number[]): LossCombiner {
  return (normed) => tf.addN(normed.map((l, t) => l.mul(weights[t]!))) as tf.Scalar;
}

function recordInitial(env: StepEnv, t: number, loss: tf.Scalar): void {
  if (env.initial[t] === undefined) env.initial[t] = loss.dataSync()[0]!;
}

function withPenalty(total: tf.Scalar, env: StepEnv): tf.Scalar {
  const penalty = regularizationPenalty(env.kernels, env.regularization);
  return penalty ? total.add(penalty) : total;
}

/** One backward pass of combine(L̂_1..L̂_T) over the model's and the weighting's own variables. */
export function lossWeightedStep(
  env: StepEnv,
  combine: LossCombiner,
  vars: tf.Variable[],
  weights: number[] | null,
): StepOutcome {
  let losses: tf.Scalar[] = [];
  let correct: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const r = forwardTasks(env.model, env.batch, env.tasks, env.distill);
    losses = r.losses.map((l) => tf.keep(l));
    correct = r.correct.map((c) => tf.keep(c));
    r.losses.forEach((l, t) => {
      recordInitial(env, t, l);
    });
    const normed = r.losses.map((l, t) => normalizeLoss(l, env.normalize, env.initial[t]));
    return withPenalty(combine(normed), env);
  }, vars);
  return { grads, objective: value, losses, correct, weights };
}

/**
 * lossWeightedStep with weights `weights` on the unnormalised losses over every model variable, as
 * the fused convnet step (forward, backward and Adam in one kernel, at the optimizer's current
 * learning rate), where the program planned one; else null.
 */
export function fusedLossWeightedStep(env: StepEnv, weights: number[]): StepOutcome | null {
  const fused = fusedFor(env);
  if (!fused?.step || (env.normalize !== 'none' && env.normalize !== 'initial')) return null;
  // L̂_t = L_t / L₀_t: the weight w_t on L̂_t is w_t / L₀_t on the raw loss the kernel takes.
  const onRaw = weights.map((w, t) => w * normalizationScale(env, t, Number.NaN));
  if (onRaw.some((w) => !Number.isFinite(w))) return null; // a first loss not recorded yet
  const r = fusedCnnStep({ ...fused.step, taskWeights: onRaw }, fused.x, fused.labels, fused.index);
  r.losses.forEach((l, t) => {
    recordInitial(env, t, l);
  });
  return { grads: {}, objective: r.objective, losses: r.losses, correct: r.correct, weights, applied: true };
}

export interface TaskGradients {
  /** One flattened gradient of L̂_t on the shared variables per task. */
  shared: Float32Array[];
  /** Each task's gradients on its own head (owned by the caller). */
  heads: tf.NamedTensorMap[];
  /** L̂_t values. */
  normed: tf.Scalar[];
  losses: tf.Scalar[];
  correct: tf.Scalar[];
}

/** A backward pass per task: ∇L̂_t on the shared variables (flattened to the host) and on its head. */
export function perTaskGradients(env: StepEnv): TaskGradients {
  const fused = fusedFor(env);
  if (fused) return fusedPerTask(env, fused);
  const out: TaskGradients = { shared: [], heads: [], normed: [], losses: [], correct: [] };
  env.tasks.forEach((_, t) => {
    const { value, grads } = tf.variableGrads(() => {
      const r = forwardTasks(env.model, env.batch, env.tasks, env.distill, [t]);
      out.losses.push(tf.keep(r.losses[0]!));
      out.correct.push(tf.keep(r.correct[0]!));
      recordInitial(env, t, r.losses[0]!);
      const normed = normalizeLoss(r.losses[0]!, env.normalize, env.initial[t]);
      // The returned value is owned separately from the kept raw loss (they are one tensor when not normalised).
      return normed === r.losses[0] ? normed.clone() : normed;
    }, [...env.shared, ...env.heads[t]!]);
    out.shared.push(flattenGrads(grads, env.shared));
    const head: tf.NamedTensorMap = {};
    for (const v of env.heads[t]!) head[v.name] = grads[v.name]!;
    tf.dispose(env.shared.map((v) => grads[v.name]).filter((g): g is tf.Tensor => g !== undefined));
    out.heads.push(head);
    out.normed.push(value);
  });
  return out;
}

/** The fused kernel's plan and rows where this step can take it (the plan was made for the wasm
 *  backend: a later backend switch takes the generic path). */
function fusedFor(env: StepEnv): FusedTaskStep | null {
  return env.fused && tf.getBackend() === 'wasm' ? env.fused : null;
}

/**
 * dL̂_t/dL_t, the factor loss normalisation puts on task t's gradients: 1 (none), 1/L₀_t (`initial`),
 * 1/(L_t + 1e-12) (`log`, at this batch's raw loss `raw`; the sum in float32 as normalizeLoss forms it).
 * The fused kernels differentiate the raw losses; their gradients times this are those of L̂_t.
 */
function normalizationScale(env: StepEnv, t: number, raw: number): number {
  if (env.normalize === 'initial') return 1 / Math.max(env.initial[t] ?? Number.NaN, 1e-12);
  if (env.normalize === 'log') return 1 / Math.fround(raw + Math.fround(1e-12));
  return 1;
}

/** Scales task t's fused gradients (flattened shared ones in place, its head's as new tensors) to L̂_t's. */
function normalizeTaskGradients(env: StepEnv, t: number, raw: number, shared: Float32Array, head?: tf.NamedTensorMap) {
  const scale = normalizationScale(env, t, raw);
  if (scale === 1) return;
  for (let i = 0; i < shared.length; i++) shared[i]! *= scale;
  if (!head) return;
  for (const [name, g] of Object.entries(head)) {
    head[name] = tf.tidy(() => g.mul(scale));
    g.dispose();
  }
}

/** perTaskGradients in one kernel: one forward, then per task its head's and the trunk's backward. */
function fusedPerTask(env: StepEnv, f: FusedTaskStep): TaskGradients {
  const r = fusedTaskGradients(f.plan, f.x, f.labels, f.index);
  r.losses.forEach((l, t) => {
    recordInitial(env, t, l);
    if (env.normalize !== 'none') normalizeTaskGradients(env, t, l.dataSync()[0]!, r.shared[t]!, r.heads[t]);
  });
  // L̂_t, owned separately from the raw loss (as the generic path returns it).
  const normed = r.losses.map((l, t) =>
    env.normalize === 'none' ? l.clone() : tf.tidy(() => normalizeLoss(l, env.normalize, env.initial[t])),
  );
  return { shared: r.shared, heads: r.heads, normed, losses: r.losses, correct: r.correct };
}

export interface Combination {
  /** The update direction on the shared variables. */
  direction: Float32Array;
  /** Scale of each task's head gradient. */
  headScale: number[];
  /** Task weights to record (and to form the objective value), or null. */
  weights: number[] | null;
}

/** Apply a combination: shared direction + scaled head gradients (+ the penalty's own gradient). */
export function assembleGradientStep(env: StepEnv, g: TaskGradients, c: Combination, diagnose = true): StepOutcome {
  const grads = unflattenGrads(c.direction, env.shared);
  g.heads.forEach((head, t) => {
    for (const [name, grad] of Object.entries(head)) {
      grads[name] = c.headScale[t] === 1 ? grad : tf.tidy(() => grad.mul(c.headScale[t]!));
      if (c.headScale[t] !== 1) grad.dispose();
    }
  });
  addPenaltyGrads(env, grads);
  const w = c.weights ?? g.normed.map(() => 1);
  const objective = tf.tidy(() => tf.addN(g.normed.map((l, t) => l.mul(w[t]!))) as tf.Scalar);
  tf.dispose(g.normed);
  const diagnostics = diagnose ? gradientDiagnostics(g.shared) : undefined;
  return { grads, objective, losses: g.losses, correct: g.correct, weights: c.weights, diagnostics };
}

function addPenaltyGrads(env: StepEnv, grads: tf.NamedTensorMap): void {
  if (env.regularization.l1 === 0 && env.regularization.l2 === 0) return;
  const { value, grads: pg } = tf.variableGrads(
    () => regularizationPenalty(env.kernels, env.regularization) ?? tf.scalar(0),
    env.kernels,
  );
  value.dispose();
  for (const [name, g] of Object.entries(pg)) {
    const prev = grads[name];
    grads[name] = prev ? tf.tidy(() => prev.add(g)) : g;
    if (prev) {
      prev.dispose();
      g.dispose();
    }
  }
}

/**
 * MGDA-UB (Sener & Koltun 2018, §3.3): the min-norm weights come from the task gradients w.r.t.
 * the shared representation Z (one trunk pass, T head backward passes), then one backward pass of
 * Σ α_t L̂_t updates everything. Needs a single input group and one representation (hard sharing).
 */
export function representationGradients(env: StepEnv): { grads: Float32Array[]; gram: number[][] } {
  const fused = fusedFor(env);
  if (fused) {
    // One kernel: the forward once, each head's backward to the representation.
    const r = fusedRepresentationGradients(fused.plan, fused.x, fused.labels, fused.index);
    r.losses.forEach((l, t) => {
      recordInitial(env, t, l);
      if (env.normalize !== 'none') normalizeTaskGradients(env, t, l.dataSync()[0]!, r.grads[t]!);
    });
    tf.dispose(r.losses);
    return { grads: r.grads, gram: gramMatrix(r.grads) };
  }
  const z = tf.tidy(() => trunkReps(env.model, env.batch.x[0]!)[0]!);
  const grads = env.tasks.map((task, t) =>
    tf.tidy(() => {
      const lossOf = (rep: tf.Tensor): tf.Scalar => {
        const raw = taskLoss(
          headLogits(env.model, t, rep),
          env.batch.y[t]!,
          task.numClasses,
          env.batch.soft[t] ?? null,
          env.distill,
          task.masked !== undefined,
        );
        recordInitial(env, t, raw);
        return normalizeLoss(raw, env.normalize, env.initial[t]);
      };
      return tf.grad(lossOf)(z).reshape([-1]).dataSync() as Float32Array;
    }),
  );
  z.dispose();
  return { grads, gram: gramMatrix(grads) };
}
