// The multi-task program in the shared loop on tiny synthetic tasks: every weighting method and
// architecture learns both tasks, keeps tf.memory().numTensors flat across epochs, and records task
// weights and (for gradient methods) gradient diagnostics; multi-input sampling; distillation loss.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { configSchema } from '../../../src/config/schema.ts';
import type { MlpConfig, MultitaskArchitecture, WeightingName } from '../../../src/config/types.ts';
import type { MultiTaskData } from '../../../src/data/multi-prepare.ts';
import { initBackend } from '../../../src/engine/backend/backend.ts';
import { tf } from '../../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../../src/engine/kernels/calls.ts';
import { classificationReport } from '../../../src/metrics/report.ts';
import { buildMultiTaskModel } from '../../../src/models/multitask/build.ts';
import { Rng } from '../../../src/random/rng.ts';
import { type EpochRecord, runLoop } from '../../../src/train/loop.ts';
import { BatchSampler, disposeTaskSplit, taskSplitToDevice } from '../../../src/train/multitask/data.ts';
import { normalizeLoss, taskLoss } from '../../../src/train/multitask/forward.ts';
import { createMultiTaskProgram } from '../../../src/train/multitask/program.ts';
import { createOptimizer } from '../../../src/train/optimizers.ts';

before(async () => {
  await initBackend('wasm', {});
});

const F = 8;
const MLP: MlpConfig = { type: 'mlp', hidden: [16], activation: 'relu', dropout: 0 };

/** Two linearly separable binary tasks on the same Gaussian inputs (or on separate ones). */
function syntheticGroup(n: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * F }, () => rng.normal());
  const a = Int32Array.from({ length: n }, (_, i) => (x[i * F]! + x[i * F + 1]! > 0 ? 1 : 0));
  const b = Int32Array.from({ length: n }, (_, i) => (x[i * F + 2]! - x[i * F + 3]! > 0 ? 1 : 0));
  return { x, n, raw: x, a, b };
}

function syntheticData(multiInput: boolean): MultiTaskData {
  const g0 = { train: syntheticGroup(384, 1), val: syntheticGroup(128, 2), test: syntheticGroup(128, 3) };
  const g1 = { train: syntheticGroup(256, 4), val: syntheticGroup(128, 5), test: syntheticGroup(128, 6) };
  const group = (g: typeof g0, name: string) => ({
    dataset: name,
    name,
    train: g.train,
    val: g.val,
    test: g.test,
    rawTrain: new Uint8Array(0),
  });
  const labels = (g: typeof g0, k: 'a' | 'b') => ({ train: g.train[k], val: g.val[k], test: g.test[k] });
  return {
    groups: multiInput ? [group(g0, 'one'), group(g1, 'two')] : [group(g0, 'one')],
    tasks: [
      { name: 'a', group: 0, numClasses: 2, classNames: ['0', '1'], labels: labels(g0, 'a') },
      {
        name: 'b',
        group: multiInput ? 1 : 0,
        numClasses: 2,
        classNames: ['0', '1'],
        labels: labels(multiInput ? g1 : g0, 'b'),
      },
    ],
    preprocess: { inputShape: [F], steps: [] },
    imageShape: [F],
    seeds: {},
  };
}

async function train(
  weighting: WeightingName,
  architecture: MultitaskArchitecture,
  multiInput = false,
  epochs = 6,
  normalizeLosses = 'none',
) {
  const config = configSchema.parse({
    name: 't',
    trainer: { mode: 'multitask', batchSize: 64, optimizer: { lr: 0.02 } },
    tasks: [
      { name: 'a', head: { hidden: [8] } },
      { name: 'b', head: { hidden: [8] } },
    ],
    multitask: { weighting, architecture, experts: 2, normalizeLosses },
  });
  const data = syntheticData(multiInput);
  const m = buildMultiTaskModel(MLP, {
    architecture,
    inputShape: [F],
    experts: 2,
    rng: new Rng(3),
    heads: config.tasks.map((t) => ({ task: t.name, hidden: t.head.hidden, classes: 2 })),
  });
  const trainSplit = taskSplitToDevice(data, 'train', [F]);
  const val = taskSplitToDevice(data, 'val', [F]);
  const optimizer = createOptimizer(config.trainer.optimizer);
  const program = createMultiTaskProgram({
    model: m,
    tasks: config.tasks,
    taskInfo: data.tasks.map((t) => ({ group: t.group, numClasses: 2 })),
    train: trainSplit,
    val,
    multitask: config.multitask,
    batchSize: 64,
    regularization: { l1: 0, l2: 1e-4 },
    optimizer,
    rng: new Rng(9),
    soft: [null, null],
    distill: null,
    scoreValidation: (probs, labels) => {
      const metrics = Object.fromEntries(
        ['a', 'b'].map((n, t) => [n, { accuracy: classificationReport(labels[t]!, probs[t]!, 2).accuracy }]),
      );
      return { metrics, monitor: (metrics.a!.accuracy + metrics.b!.accuracy) / 2 };
    },
  });
  const tensors: number[] = [];
  const records: EpochRecord[] = [];
  await runLoop(program, {
    epochs,
    baseLr: 0.02,
    schedule: config.trainer.schedule,
    monitor: 'val.accuracy',
    earlyStopping: config.trainer.earlyStopping,
    callbacks: {
      onEpochEnd: (r) => {
        records.push(r);
        tensors.push(tf.memory().numTensors);
      },
    },
  });
  program.dispose();
  [trainSplit, val].forEach(disposeTaskSplit);
  optimizer.dispose();
  m.model.dispose();
  return { records, tensors, stepsPerEpoch: program.stepsPerEpoch };
}

const GRADIENT_METHODS = new Set(['gradnorm', 'pcgrad', 'mgda', 'cagrad']);
const CASES: [WeightingName, MultitaskArchitecture][] = [
  ...(['equal', 'static', 'uncertainty', 'dwa', 'rlw', 'gradnorm', 'pcgrad', 'mgda', 'cagrad'] as const).map(
    (w) => [w, 'hard'] as [WeightingName, MultitaskArchitecture],
  ),
  ['equal', 'cross-stitch'],
  ['pcgrad', 'cross-stitch'],
  ['mgda', 'cross-stitch'],
  ['equal', 'mmoe'],
  ['cagrad', 'mmoe'],
  ['gradnorm', 'mmoe'],
];

describe('multi-task program', () => {
  for (const [weighting, architecture] of CASES) {
    it(`${architecture} / ${weighting}: learns both tasks, flat tensor count, records weights`, async () => {
      const adamBefore = kernelCalls.get('MtlAdam') ?? 0;
      const stepBefore = kernelCalls.get('MtlCnnStep') ?? 0;
      const tasksBefore = kernelCalls.get('MtlCnnTaskGrads') ?? 0;
      const { records, tensors, stepsPerEpoch } = await train(weighting, architecture);
      // Hard sharing with fixed weights runs whole steps as one fused kernel (engine/fused/cnn.ts,
      // which takes MLP trunks too), and so does MGDA-UB's step once its weights are known; the
      // gradient methods on hard sharing take their per-task (or representation) gradients from
      // MtlCnnTaskGrads; everything else applies Adam as mtl's fused kernel, at least once per step.
      const hard = architecture === 'hard';
      const wholeStep = hard && (weighting === 'equal' || weighting === 'static' || weighting === 'mgda');
      const fusedSteps = (kernelCalls.get('MtlCnnStep') ?? 0) - stepBefore;
      assert.equal(fusedSteps, wholeStep ? 6 * stepsPerEpoch : 0, 'fused steps');
      const taskGrads = (kernelCalls.get('MtlCnnTaskGrads') ?? 0) - tasksBefore;
      assert.equal(taskGrads, hard && GRADIENT_METHODS.has(weighting) ? 6 * stepsPerEpoch : 0, 'fused task gradients');
      if (!wholeStep) assert.ok((kernelCalls.get('MtlAdam') ?? 0) - adamBefore >= 6 * stepsPerEpoch, 'fused Adam ran');
      assert.equal(new Set(tensors).size, 1, `numTensors per epoch: ${tensors.join(', ')}`);
      const last = records.at(-1)!;
      const val = last.val as Record<string, { accuracy: number }>;
      // Chance is 0.5; both tasks are linearly separable.
      for (const task of ['a', 'b'])
        assert.ok(val[task]!.accuracy > 0.8, `${task} val accuracy ${val[task]!.accuracy}`);
      const first = records[0]!.trainTasks as Record<string, { loss: number }>;
      const end = last.trainTasks as Record<string, { loss: number }>;
      for (const task of ['a', 'b']) assert.ok(end[task]!.loss < first[task]!.loss, `${task} training loss falls`);
      if (weighting !== 'pcgrad') assert.ok(last.weights, 'task weights recorded');
      const grads = last.gradients as
        | { norms: Record<string, number>; cosine: Record<string, number>; space: string }
        | undefined;
      assert.equal(
        grads !== undefined,
        GRADIENT_METHODS.has(weighting),
        'gradient diagnostics exactly for gradient methods',
      );
      if (grads) {
        assert.ok(grads.norms.a! > 0 && grads.norms.b! > 0);
        assert.ok(Math.abs(grads.cosine['a/b']!) <= 1);
        assert.equal(
          grads.space,
          weighting === 'mgda' && architecture === 'hard' ? 'representation' : 'shared-parameters',
        );
      }
      if (weighting === 'mgda') {
        const w = last.weights as Record<string, number>;
        assert.ok(Math.abs(w.a! + w.b! - 1) < 1e-6, 'MGDA weights lie on the simplex');
      }
    });
  }

  it('multi-input: a batch from each group per step, an epoch covers the larger group', async () => {
    const { records, tensors, stepsPerEpoch } = await train('equal', 'hard', true, 3);
    assert.equal(stepsPerEpoch, Math.ceil(384 / 64));
    assert.equal(new Set(tensors).size, 1);
    const val = records.at(-1)!.val as Record<string, { accuracy: number }>;
    assert.ok(val.a!.accuracy > 0.8 && val.b!.accuracy > 0.8, JSON.stringify(val));
    // MGDA falls back to the shared parameters when the tasks see different inputs.
    const mgda = await train('mgda', 'hard', true, 1);
    assert.equal((mgda.records[0]!.gradients as { space: string }).space, 'shared-parameters');
  });

  for (const [weighting, norm] of [
    ['mgda', 'initial'],
    ['pcgrad', 'log'],
    ['equal', 'log'],
  ] as const) {
    it(`${weighting} with ${norm}-normalised losses learns both tasks`, async () => {
      const { records, tensors } = await train(weighting, 'hard', false, 6, norm);
      assert.equal(new Set(tensors).size, 1);
      const val = records.at(-1)!.val as Record<string, { accuracy: number }>;
      assert.ok(val.a!.accuracy > 0.8 && val.b!.accuracy > 0.8, JSON.stringify(val));
    });
  }

  it('the sampler cycles the shorter group within an epoch', () => {
    const s = new BatchSampler([10, 4], 3, new Rng(1));
    s.beginEpoch();
    const seen: number[][] = [[], []];
    for (let k = 0; k < s.stepsPerEpoch; k++)
      s.next().forEach((idx, g) => {
        seen[g]!.push(...idx);
      });
    assert.equal(s.stepsPerEpoch, 4);
    assert.deepEqual(
      [...seen[0]!].sort((a, b) => a - b),
      [...Array(10).keys()],
    );
    assert.equal(seen[1]!.length, 3 + 1 + 3 + 1, 'the 4-example group is drawn twice, in partial batches at its ends');
  });
});

describe('loss normalisation', () => {
  it('divides by the first-step loss, or takes the log', () => {
    const l = tf.scalar(4);
    assert.equal(normalizeLoss(l, 'none', undefined), l);
    assert.ok(Math.abs(normalizeLoss(l, 'initial', 8).dataSync()[0]! - 0.5) < 1e-7);
    assert.ok(Math.abs(normalizeLoss(l, 'log', undefined).dataSync()[0]! - Math.log(4)) < 1e-6);
    l.dispose();
  });
});

describe('distillation loss', () => {
  it('is the hard-label loss at α = 0, and (1 − α)·CE when the teacher agrees with the tempered student', () => {
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
    const y = tf.tensor1d([0, 1], 'int32');
    const ce = taskLoss(logits, y, 3, null, null).dataSync()[0]!;
    const tau = 2;
    const soft = tf.softmax(logits.div(tau));
    assert.ok(Math.abs(taskLoss(logits, y, 3, soft, { temperature: tau, alpha: 0 }).dataSync()[0]! - ce) < 1e-6);
    assert.ok(
      Math.abs(taskLoss(logits, y, 3, soft, { temperature: tau, alpha: 0.3 }).dataSync()[0]! - 0.7 * ce) < 1e-5,
    );
    // A teacher that disagrees adds a positive KL term: α·τ²·KL.
    const other = tf
      .tensor2d([
        [0, 0, 1],
        [1, 0, 0],
      ])
      .mul(0.98)
      .add(0.02 / 3);
    assert.ok(taskLoss(logits, y, 3, other, { temperature: tau, alpha: 0.3 }).dataSync()[0]! > 0.7 * ce + 0.1);
    tf.dispose([logits, y, soft, other]);
  });
});
