// The forward pass of a multi-task step on concrete tensors: the trunk once per input group, each
// task's head on its representation, per-task losses (cross-entropy, plus distillation from a
// teacher's soft targets) and loss-scale normalisation; and flattening gradients to plain vectors.
import type { LossNormalization } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import type { MultiTaskModel } from '../../models/multitask/build.ts';

/** One step's inputs: a batch per input group, labels and (optional) soft targets per task. */
export interface StepBatch {
  x: tf.Tensor[];
  y: tf.Tensor1D[];
  soft: (tf.Tensor | null)[];
}

export interface TaskInfo {
  group: number;
  numClasses: number;
  /**
   * Set when some training rows lack this task's label (−1, a table's empty cell): the host copy of
   * the training labels. Those rows are masked out of the task's loss (and its accuracy count).
   */
  masked?: Int32Array;
}

export interface DistillSettings {
  temperature: number;
  alpha: number;
}

/** Trunk representations of one group's batch: one per trunk output. */
export function trunkReps(m: MultiTaskModel, x: tf.Tensor): tf.Tensor[] {
  const out = m.trunk.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

export function headLogits(m: MultiTaskModel, t: number, rep: tf.Tensor): tf.Tensor {
  return m.heads[t]!.reduce((h, layer) => layer.apply(h, { training: true }) as tf.Tensor, rep);
}

/**
 * Task loss from logits: softmax cross-entropy, or with a teacher (Hinton et al. 2015)
 * (1 − α)·CE + α·τ²·KL(teacher_τ ‖ softmax(z/τ)), τ² keeping the soft term's gradients in scale.
 */
export function taskLoss(
  logits: tf.Tensor,
  y: tf.Tensor1D,
  numClasses: number,
  soft: tf.Tensor | null,
  distill: DistillSettings | null,
  masked = false,
): tf.Scalar {
  const ce = masked ? maskedCrossEntropy(logits, y, numClasses) : crossEntropy(logits, y, numClasses);
  if (!soft || !distill) return ce;
  const { temperature: tau, alpha } = distill;
  const logStudent = tf.logSoftmax(logits.div(tau));
  const kl = soft
    .mul(tf.log(soft.clipByValue(1e-12, 1)).sub(logStudent))
    .sum(-1)
    .mean() as tf.Scalar;
  return ce.mul(1 - alpha).add(kl.mul(alpha * tau * tau));
}

function crossEntropy(logits: tf.Tensor, y: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits) as tf.Scalar;
}

/**
 * Mean cross-entropy over the rows that have a label (y ≥ 0); 0 when none has. (tfjs's own weighted
 * reduction divides by the count of non-zero weights, which is NaN for a batch without labels.)
 */
export function maskedCrossEntropy(logits: tf.Tensor, y: tf.Tensor1D, numClasses: number): tf.Scalar {
  const mask = y.greaterEqual(0).cast('float32');
  const rows = tf.losses.softmaxCrossEntropy(tf.oneHot(y, numClasses), logits, undefined, 0, tf.Reduction.NONE);
  return rows.mul(mask).sum().div(mask.sum().maximum(1)) as tf.Scalar;
}

export function correctCount(logits: tf.Tensor, y: tf.Tensor1D): tf.Scalar {
  return logits.argMax(-1).equal(y).sum().cast('float32') as tf.Scalar;
}

export interface ForwardResult {
  /** Raw task losses (before normalisation). */
  losses: tf.Scalar[];
  correct: tf.Scalar[];
}

/** Forward the given tasks (default: all); the trunk runs once per group that a task needs. */
export function forwardTasks(
  m: MultiTaskModel,
  batch: StepBatch,
  tasks: TaskInfo[],
  distill: DistillSettings | null,
  only?: number[],
): ForwardResult {
  const wanted = only ?? tasks.map((_, t) => t);
  const reps = new Map<number, tf.Tensor[]>();
  const losses: tf.Scalar[] = [];
  const correct: tf.Scalar[] = [];
  for (const t of wanted) {
    const g = tasks[t]!.group;
    if (!reps.has(g)) reps.set(g, trunkReps(m, batch.x[g]!));
    const logits = headLogits(m, t, reps.get(g)![m.repIndex[t]!]!);
    const task = tasks[t]!;
    losses.push(
      taskLoss(logits, batch.y[t]!, task.numClasses, batch.soft[t] ?? null, distill, task.masked !== undefined),
    );
    correct.push(correctCount(logits, batch.y[t]!));
  }
  return { losses, correct };
}

/** `initial`: L / L(first step) (a constant); `log`: log L; both make tasks' loss scales comparable. */
export function normalizeLoss(loss: tf.Scalar, kind: LossNormalization, initial: number | undefined): tf.Scalar {
  if (kind === 'log') return tf.log(loss.add(1e-12)) as tf.Scalar;
  if (kind === 'initial') return loss.div(Math.max(initial ?? 1, 1e-12)) as tf.Scalar;
  return loss;
}

/** Concatenate the gradients of `vars` into one host vector (zeros where a variable has none). */
export function flattenGrads(grads: tf.NamedTensorMap, vars: tf.Variable[]): Float32Array {
  return tf.tidy(() => {
    const parts = vars.map((v) => (grads[v.name] ?? tf.zerosLike(v)).reshape([-1]));
    return tf.concat(parts).dataSync() as Float32Array;
  });
}

/** The inverse of flattenGrads: one tensor per variable, in its shape. */
export function unflattenGrads(flat: Float32Array, vars: tf.Variable[]): tf.NamedTensorMap {
  const out: tf.NamedTensorMap = {};
  let offset = 0;
  for (const v of vars) {
    out[v.name] = tf.tensor(flat.subarray(offset, offset + v.size), v.shape);
    offset += v.size;
  }
  return out;
}
