// The single-task classification program for the shared loop: batches gathered on the device from
// one preloaded tensor, per-group optimizers (freeze plans, discriminative LRs), frozen layers run in
// inference mode.
import type { RegularizationConfig } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import { applyFusedAdam } from '../../engine/fused/adam.ts';
import { type FusedCnnPlan, fusedCnnStep, planFusedCnn, singleTaskLayers } from '../../engine/fused/cnn.ts';
import { type FusedDensePlan, fusedDenseStep, planFusedDense } from '../../engine/fused/dense.ts';
import { permutation, type Rng } from '../../random/rng.ts';
import { bestWeightsOf } from '../best-weights.ts';
import type { LoopProgram, StepResult, ValidationResult } from '../loop.ts';
import { setLearningRate } from '../optimizers.ts';
import { isKernel, regularizationPenalty } from '../regularization.ts';

/** A set of variables updated by one optimizer at `lrScale` × the scheduled learning rate. */
export interface ParamGroup {
  name: string;
  layers: tf.layers.Layer[];
  optimizer: tf.Optimizer;
  lrScale: number;
}

/** Examples already preprocessed, as device tensors: x [n, ...inputShape], y int32 [n]. */
export interface DeviceSplit {
  x: tf.Tensor;
  y: tf.Tensor1D;
  n: number;
}

export interface ClassifierProgramOptions {
  model: tf.LayersModel;
  train: DeviceSplit;
  val: DeviceSplit | null;
  numClasses: number;
  batchSize: number;
  groups: ParamGroup[];
  regularization: RegularizationConfig;
  rng: Rng;
  /** Computes validation metrics from probabilities (injected: metrics live in src/metrics). */
  scoreValidation: (probs: Float32Array, labels: ArrayLike<number>) => ValidationResult;
}

/** Run the model's layers up to the head's logits; `training` decides per layer (frozen → false). */
export function forwardLogits(
  model: tf.LayersModel,
  x: tf.Tensor,
  training: (layer: tf.layers.Layer) => boolean,
): tf.Tensor {
  let h = x;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.name === 'head_softmax') break;
    h = layer.apply(h, { training: training(layer) }) as tf.Tensor;
  }
  return h;
}

export interface ClassifierProgram extends LoopProgram {
  setGroups(groups: ParamGroup[]): void;
  /** Whether steps run as one fused native kernel (src/engine/fused/dense.ts or cnn.ts) for the current groups. */
  fused(): boolean;
}

/**
 * The layers that run in training mode: a layer with weights when it trains; a layer without weights
 * (Dropout, Activation, pooling, Flatten) with the nearest layer with weights below it, whose block it
 * belongs to. So a frozen backbone's Dropout is off (its features stay deterministic, as in Keras's
 * `base_model(training=False)`), while Dropout above a trained layer is on.
 */
export function layersInTrainingMode(
  model: tf.LayersModel,
  trainable: ReadonlySet<tf.layers.Layer>,
): Set<tf.layers.Layer> {
  const on = new Set<tf.layers.Layer>();
  let blockTrains = false;
  for (const layer of model.layers) {
    if (layer.weights.length > 0) blockTrains = trainable.has(layer);
    if (blockTrains) on.add(layer);
  }
  return on;
}

export function createClassifierProgram(o: ClassifierProgramOptions): ClassifierProgram {
  let groups = o.groups;
  let trainable = new Set<tf.layers.Layer>();
  let inTrainingMode = new Set<tf.layers.Layer>();
  let variables: tf.Variable[] = [];
  let kernels: tf.Variable[] = [];
  // A plain MLP or small convnet trained with Adam on wasm takes a fused step; anything else the
  // generic one below.
  let fusedPlan: FusedDensePlan | null = null;
  let cnnPlan: FusedCnnPlan | null = null;
  const setGroups = (next: ParamGroup[]): void => {
    groups = next;
    trainable = new Set(next.flatMap((g) => g.layers));
    inTrainingMode = layersInTrainingMode(o.model, trainable);
    variables = next.flatMap((g) => g.layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable)));
    kernels = next.flatMap((g) =>
      g.layers.flatMap((l) => l.trainableWeights.filter(isKernel).map((w) => w.read() as tf.Variable)),
    );
    fusedPlan = planFusedDense(o.model, next, {
      x: o.train.x,
      y: o.train.y,
      numClasses: o.numClasses,
      regularization: o.regularization,
    });
    const { trunk, heads } = singleTaskLayers(o.model);
    cnnPlan = fusedPlan
      ? null
      : planFusedCnn(trunk, heads, next, {
          x: o.train.x,
          labels: [o.train.y],
          numClasses: [o.numClasses],
          taskWeights: [1],
          regularization: o.regularization,
          penaltyInLoss: true,
        });
  };
  setGroups(groups);
  const stepsPerEpoch = Math.ceil(o.train.n / o.batchSize);
  let order: Int32Array<ArrayBuffer> = new Int32Array(0);
  let cursor = 0;
  const best = bestWeightsOf(o.model);

  const step = (lr: number): StepResult => {
    const idx = order.subarray(cursor, Math.min(cursor + o.batchSize, o.train.n));
    cursor += idx.length;
    // (The plan was made for the wasm backend: a later switch, as tests do, takes the generic path.)
    if (fusedPlan && tf.getBackend() === 'wasm') {
      for (const g of groups) setLearningRate(g.optimizer, lr * g.lrScale);
      const { loss, correct } = fusedDenseStep(fusedPlan, o.train.x, o.train.y, idx);
      return { loss, correct, count: idx.length };
    }
    if (cnnPlan && tf.getBackend() === 'wasm') {
      for (const g of groups) setLearningRate(g.optimizer, lr * g.lrScale);
      const r = fusedCnnStep(cnnPlan, o.train.x, [o.train.y], idx);
      r.objective.dispose();
      return { loss: r.losses[0]!, correct: r.correct[0]!, count: idx.length };
    }
    let correct: tf.Scalar | null = null;
    const { value, grads } = tf.tidy(() => {
      const idxT = tf.tensor1d(idx, 'int32');
      const xb = tf.gather(o.train.x, idxT);
      const yb = tf.gather(o.train.y, idxT);
      return tf.variableGrads(() => {
        const logits = forwardLogits(o.model, xb, (l) => inTrainingMode.has(l));
        correct = tf.keep(logits.argMax(-1).equal(yb).sum().cast('float32') as tf.Scalar);
        const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(yb, o.numClasses), logits) as tf.Scalar;
        const penalty = regularizationPenalty(kernels, o.regularization);
        return penalty ? ce.add(penalty) : ce;
      }, variables);
    });
    for (const g of groups) {
      setLearningRate(g.optimizer, lr * g.lrScale);
      const mine: tf.NamedTensorMap = {};
      for (const l of g.layers)
        for (const w of l.trainableWeights)
          mine[(w.read() as tf.Variable).name] = grads[(w.read() as tf.Variable).name]!;
      if (!applyFusedAdam(g.optimizer, mine)) g.optimizer.applyGradients(mine);
    }
    tf.dispose(grads);
    return { loss: value, correct, count: idx.length };
  };

  return {
    stepsPerEpoch,
    setGroups,
    fused: () => fusedPlan !== null || cnnPlan !== null,
    beginEpoch: () => {
      order = permutation(o.train.n, o.rng);
      cursor = 0;
    },
    step,
    validate: async () => {
      if (!o.val || o.val.n === 0) return null;
      const probs = predictProbs(o.model, o.val.x);
      return o.scoreValidation(probs, o.val.y.dataSync());
    },
    captureBest: best.capture,
    restoreBest: best.restore,
    // The shuffle stream is the program's only state between epochs (order and cursor restart each epoch).
    saveState: () => ({ shuffle: o.rng.getState() }),
    restoreState: (state) => {
      if (typeof state.shuffle === 'number') o.rng.setState(state.shuffle);
    },
  };
}

/** Class probabilities for every example, computed in inference mode in batches. */
export function predictProbs(model: tf.LayersModel, x: tf.Tensor, batchSize = 1000): Float32Array {
  const n = x.shape[0]!;
  const numClasses = model.outputs[0]!.shape[1] as number;
  const out = new Float32Array(n * numClasses);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    // One predict call per chunk: predict's own default batch of 32 costs 32 slices and kernel calls.
    const probs = tf.tidy(() => model.predict(x.slice(start, size), { batchSize: size }) as tf.Tensor);
    out.set(probs.dataSync() as Float32Array, start * numClasses);
    probs.dispose();
  }
  return out;
}
