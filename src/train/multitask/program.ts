// The multi-task program for the shared loop: batches per input group, the configured weighting
// method's step, one optimizer, and per-epoch records (per-task training loss and accuracy, task
// weights, gradient norms and pairwise cosines for the gradient methods).
import type { MultitaskConfig, RegularizationConfig, TaskConfig } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import { applyFusedAdam } from '../../engine/fused/adam.ts';
import {
  type FusedCnnPlan,
  type FusedTaskGradsPlan,
  fusedCnnStep,
  planFusedCnn,
  planFusedTaskGrads,
} from '../../engine/fused/cnn.ts';
import type { MultiTaskModel } from '../../models/multitask/build.ts';
import type { Rng } from '../../random/rng.ts';
import { base64ToFloat32, float32ToBase64 } from '../../resume/state.ts';
import { bestWeightsOf } from '../best-weights.ts';
import type { LoopProgram, ProgramState, StepResult, ValidationResult } from '../loop.ts';
import { setLearningRate } from '../optimizers.ts';
import { isKernel } from '../regularization.ts';
import { BatchSampler, type DeviceTaskSplit, predictTasks } from './data.ts';
import type { DistillSettings, StepBatch, TaskInfo } from './forward.ts';
import { EpochStats } from './records.ts';
import type { StepEnv, StepOutcome } from './steps.ts';
import { createWeighting, type Weighting } from './weighting/index.ts';

export interface MultiTaskProgramOptions {
  model: MultiTaskModel;
  tasks: readonly TaskConfig[];
  taskInfo: TaskInfo[];
  train: DeviceTaskSplit;
  val: DeviceTaskSplit | null;
  multitask: MultitaskConfig;
  batchSize: number;
  regularization: RegularizationConfig;
  optimizer: tf.Optimizer;
  rng: Rng;
  /** Teachers' soft targets on the training examples, per task (null: no teacher for that task). */
  soft: (tf.Tensor | null)[];
  distill: DistillSettings | null;
  scoreValidation: (probs: Float32Array[], labels: Int32Array[]) => ValidationResult;
}

export type MultiTaskProgram = LoopProgram & { dispose(): void };

function variablesOf(layers: tf.layers.Layer[]): tf.Variable[] {
  return layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

export function createMultiTaskProgram(o: MultiTaskProgramOptions): MultiTaskProgram {
  const m = o.model;
  const shared = variablesOf(m.sharedLayers);
  const heads = m.heads.map(variablesOf);
  const modelVars = [...shared, ...heads.flat()];
  // λR(θ) on kernels, but not on cross-stitch units: their "kernels" are mixing weights near identity.
  const kernels = [...m.sharedLayers.filter((l) => !l.name.startsWith('stitch_')), ...m.heads.flat()].flatMap((l) =>
    l.trainableWeights.filter(isKernel).map((w) => w.read() as tf.Variable),
  );
  const weightingRng = o.rng.fork('weighting');
  const weighting = createWeighting(o.multitask, o.tasks, {
    rng: weightingRng,
    modelVars,
    gradnormSlice: lastKernelSlice(m, shared),
    representation: o.multitask.architecture === 'hard' && o.train.groups.length === 1,
  });
  const shuffleRng = o.rng.fork('shuffle');
  const sampler = new BatchSampler(
    o.train.groups.map((g) => g.n),
    o.batchSize,
    shuffleRng,
  );
  const stats = new EpochStats(
    o.tasks.map((t) => t.name),
    weighting.space,
  );
  const initial: number[] = [];
  const best = bestWeightsOf(m.model);
  const fixed = o.multitask.weighting === 'equal' || o.multitask.weighting === 'static';
  const fused = fixed ? planFusedStep(o, modelVars.length) : null;
  const fusedTasks = fixed ? null : planFusedTasks(o, shared, heads);
  // MGDA-UB's loss-weighted step (weights decided each step) as the fused step too.
  // (Its weights go on the raw losses: with `initial` normalisation they are divided by the first losses.)
  const fusedWeighted =
    fusedTasks && o.multitask.weighting === 'mgda' && o.multitask.normalizeLosses !== 'log'
      ? planFusedStep(o, modelVars.length, true)
      : null;

  const step = (lr: number): StepResult => {
    const idx = sampler.next();
    // (The plan was made for the wasm backend: a later switch takes the generic path.)
    if (fused && tf.getBackend() === 'wasm') {
      setLearningRate(o.optimizer, lr);
      const r = fusedCnnStep(fused, o.train.groups[0]!.x, o.train.labels, idx[0]!);
      // As lossWeightedStep records them (saved with the program state).
      r.losses.forEach((l, t) => {
        if (initial[t] === undefined) initial[t] = l.dataSync()[0]!;
      });
      return finishStep(
        { grads: {}, objective: r.objective, losses: r.losses, correct: r.correct, weights: fused.taskWeights },
        idx,
      );
    }
    // Gathered on first use: the fused per-task kernels read the batch by index and never need it.
    // Kept, since that first use may come inside a tidy or a gradient call.
    let batch: StepBatch | null = null;
    const env: StepEnv = {
      model: m,
      get batch(): StepBatch {
        batch ??= keepBatch(gatherBatch(o, idx));
        return batch;
      },
      tasks: o.taskInfo,
      distill: o.distill,
      normalize: o.multitask.normalizeLosses,
      initial,
      shared,
      heads,
      kernels,
      regularization: o.regularization,
      fused: fusedTasks && {
        plan: fusedTasks,
        step: fusedWeighted,
        x: o.train.groups[0]!.x,
        labels: o.train.labels,
        index: idx[0]!,
      },
    };
    // (Before the step: a fused step applies Adam itself.)
    setLearningRate(o.optimizer, lr);
    const out = weighting.step(env);
    // Adam in one native kernel per variable where it can (engine/fused/adam.ts: the same bits).
    if (!out.applied && !applyFusedAdam(o.optimizer, out.grads)) o.optimizer.applyGradients(out.grads);
    tf.dispose(out.grads);
    if (batch) disposeBatch(batch);
    return finishStep(out, idx);
  };

  const finishStep = (out: StepOutcome, idx: Int32Array[]): StepResult => {
    const sizes = o.taskInfo.map((t) => (t.masked ? labelledCount(t.masked, idx[t.group]!) : idx[t.group]!.length));
    stats.add(out, sizes);
    const count = idx.reduce((a, i) => a + i.length, 0);
    const totalTaskExamples = sizes.reduce((a, b) => a + b, 0);
    // Pooled accuracy over every task's predictions, so the loop's running accuracy means something.
    const correct = tf.tidy(() => tf.addN(out.correct).mul(count / totalTaskExamples) as tf.Scalar);
    tf.dispose([...out.losses, ...out.correct]);
    return { loss: out.objective, correct, count };
  };

  return {
    stepsPerEpoch: sampler.stepsPerEpoch,
    beginEpoch: () => {
      sampler.beginEpoch();
      weighting.beginEpoch(stats.history);
    },
    step,
    validate: async () => {
      if (!o.val || o.val.groups.some((g) => g.n === 0)) return null;
      const probs = predictTasks(
        m.model,
        o.val,
        o.taskInfo.map((t) => t.group),
      );
      return o.scoreValidation(
        probs,
        o.val.labels.map((l) => l.dataSync() as Int32Array),
      );
    },
    captureBest: best.capture,
    restoreBest: best.restore,
    // numTensors lets any run show its memory is flat (it includes the best-weights copy from epoch 2 on).
    epochExtras: () => ({ ...stats.finishEpoch(weighting.currentWeights?.()), numTensors: tf.memory().numTensors }),
    saveState: () => ({
      shuffle: shuffleRng.getState(),
      weighting: weightingRng.getState(),
      // First-step raw losses ('initial' normalisation, GradNorm's ratios) and DWA's loss history.
      initial: [...initial],
      lossHistory: stats.history,
      // Learned weighting parameters (uncertainty's log σ², GradNorm's logits), as float32 bits.
      weightingVariables: weighting.variables.map((v) => float32ToBase64(v.dataSync() as Float32Array)),
    }),
    restoreState: (state) => restoreProgramState(state, { shuffleRng, weightingRng, initial, stats, weighting }),
    dispose: () => {
      stats.dispose();
      weighting.dispose();
      best.dispose();
    },
  };
}

interface ProgramParts {
  shuffleRng: Rng;
  weightingRng: Rng;
  initial: number[];
  stats: EpochStats;
  weighting: Weighting;
}

/**
 * The fused convnet step (engine/fused/cnn.ts) where the run is `fusable` and has one Adam optimizer
 * over exactly the model's variables; else null (generic path). Its task weights are the configured ones (`equal`: 1, else
 * the tasks' `weight`): the whole step of `equal` and `static`; MGDA-UB sets its own each step.
 */
function planFusedStep(o: MultiTaskProgramOptions, modelVars: number, normalized = false): FusedCnnPlan | null {
  if (!fusable(o, normalized)) return null;
  const mt = o.multitask;
  const m = o.model;
  const layers = [...m.sharedLayers, ...m.heads.flat()];
  const plan = planFusedCnn(trunkLayers(m), m.heads, [{ layers, optimizer: o.optimizer, lrScale: 1 }], {
    x: o.train.groups[0]!.x,
    labels: o.train.labels,
    numClasses: o.taskInfo.map((t) => t.numClasses),
    taskWeights: o.tasks.map((t) => (mt.weighting === 'static' ? t.weight : 1)),
    regularization: o.regularization,
  });
  // Every trainable variable of the model, as the generic step's gradient map has them.
  return plan && plan.params.length === modelVars ? plan : null;
}

/**
 * The fused per-task gradients (engine/fused/cnn.ts) for the gradient methods' perTaskGradients and
 * representationGradients where the run is `fusable`, with any optimizer or L1/L2 penalty (the
 * penalty's gradient is added by assembleGradientStep); else null (generic path).
 */
function planFusedTasks(
  o: MultiTaskProgramOptions,
  shared: tf.Variable[],
  heads: tf.Variable[][],
): FusedTaskGradsPlan | null {
  if (!fusable(o, true)) return null;
  return planFusedTaskGrads(trunkLayers(o.model), o.model.heads, shared, heads, {
    x: o.train.groups[0]!.x,
    labels: o.train.labels,
    numClasses: o.taskInfo.map((t) => t.numClasses),
  });
}

/** What every fused multi-task kernel needs of the run: hard sharing on one input group, no teacher,
 *  no masked labels, and unnormalised losses unless the caller rescales the kernel's gradients to the
 *  normalised ones (`normalized`; steps.ts normalizationScale). The network itself is the plan's to check. */
function fusable(o: MultiTaskProgramOptions, normalized = false): boolean {
  const mt = o.multitask;
  if (mt.architecture !== 'hard' || (mt.normalizeLosses !== 'none' && !normalized)) return false;
  if (o.distill || o.soft.some((s) => s !== null)) return false;
  return o.train.groups.length === 1 && o.taskInfo.every((t) => t.group === 0 && !t.masked);
}

/** The trunk's layers in order, without the heads. */
function trunkLayers(m: MultiTaskModel): tf.layers.Layer[] {
  return m.trunk.layers.filter((l) => !m.heads.flat().includes(l));
}

function restoreProgramState(state: ProgramState, p: ProgramParts): void {
  p.shuffleRng.setState(state.shuffle as number);
  p.weightingRng.setState(state.weighting as number);
  (state.initial as (number | null)[]).forEach((l, t) => {
    if (l !== null) p.initial[t] = l;
  });
  p.stats.history.push(...(state.lossHistory as number[][]));
  (state.weightingVariables as string[]).forEach((bits, i) => {
    const v = p.weighting.variables[i]!;
    tf.tidy(() => v.assign(tf.tensor(base64ToFloat32(bits), v.shape)));
  });
}

/** Rows of the batch that have this task's label (the rest are masked out of its loss). */
function labelledCount(labels: Int32Array, idx: Int32Array): number {
  let n = 0;
  for (const i of idx) if (labels[i]! >= 0) n += 1;
  return n;
}

function gatherBatch(o: MultiTaskProgramOptions, idx: Int32Array[]): StepBatch {
  const idxT = idx.map((i) => tf.tensor1d(i, 'int32'));
  const batch: StepBatch = {
    x: o.train.groups.map((g, k) => tf.gather(g.x, idxT[k]!)),
    y: o.taskInfo.map((t, k) => tf.gather(o.train.labels[k]!, idxT[t.group]!)),
    soft: o.soft.map((s, k) => (s ? tf.gather(s, idxT[o.taskInfo[k]!.group]!) : null)),
  };
  tf.dispose(idxT);
  return batch;
}

function keepBatch(b: StepBatch): StepBatch {
  for (const t of [...b.x, ...b.y, ...b.soft]) if (t) tf.keep(t);
  return b;
}

function disposeBatch(b: StepBatch): void {
  tf.dispose([...b.x, ...b.y, ...b.soft.filter((s): s is tf.Tensor => s !== null)]);
}

/** GradNorm's W: the kernel of the last shared layer that has one, located in the flattened vector. */
function lastKernelSlice(m: MultiTaskModel, shared: tf.Variable[]): { offset: number; size: number } {
  const mixing = (name: string): boolean => name.startsWith('stitch_') || name.startsWith('gate_');
  const layer = [...m.sharedLayers].reverse().find((l) => !mixing(l.name) && l.trainableWeights.some(isKernel));
  const kernel = layer?.trainableWeights.find(isKernel)?.read();
  let offset = 0;
  for (const v of shared) {
    if (v === kernel) return { offset, size: v.size };
    offset += v.size;
  }
  return { offset: 0, size: offset };
}
