// The fused per-task gradients (src/engine/fused/cnn.ts, kernel MtlCnnTaskGrads: one forward, then per
// task its head's and the trunk's backward) against the generic perTaskGradients (a tf.variableGrads
// per task) on the same seeded models and batches: each task's flattened shared gradient, its head
// gradients, losses and correct counts agree to float tolerance, as do MGDA-UB's gradients at the
// shared representation (the same kernel without the trunk's backward); the gradient methods train
// alike on either path, one kernel call per step, and the fused path repeats bit for bit; setups
// outside it (MTL_FUSED=0, normalised losses) take the generic path.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import type { CnnConfig, MlpConfig, WeightingName } from '../../src/config/types.ts';
import type { MultiTaskData } from '../../src/data/multi-prepare.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { planFusedTaskGrads } from '../../src/engine/fused/cnn.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { buildMultiTaskModel, type MultiTaskModel } from '../../src/models/multitask/build.ts';
import { Rng } from '../../src/random/rng.ts';
import { taskSplitToDevice } from '../../src/train/multitask/data.ts';
import { createMultiTaskProgram } from '../../src/train/multitask/program.ts';
import {
  perTaskGradients,
  representationGradients,
  type StepEnv,
  type TaskGradients,
} from '../../src/train/multitask/steps.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { block, CLASSES, images, restoreFusedAfter, SIDE } from './convnet-data.ts';

const N = 150;
restoreFusedAfter();

before(async () => {
  await initBackend('wasm');
});

const taskCalls = (): number => kernelCalls.get('MtlCnnTaskGrads') ?? 0;
const stepCalls = (): number => kernelCalls.get('MtlCnnStep') ?? 0;

// MultiLeNet's shape, small: two conv blocks with pools, a dense trunk layer, heads with a hidden layer.
const CNN: CnnConfig = { type: 'cnn', conv: [block(6, 3), block(8, 3)], dense: [16], activation: 'relu', dropout: 0 };
// Wider channels (im2col paths), same padding, a block without pool, two trunk layers.
const WIDE: CnnConfig = { ...CNN, conv: [block(6, 3, 0, 'same'), block(20, 3, 2), block(24, 3, 2)], dense: [12, 10] };
const MLP: MlpConfig = { type: 'mlp', hidden: [32, 16], activation: 'relu', dropout: 0 };

function build(model: CnnConfig | MlpConfig, headHidden: number[]): MultiTaskModel {
  const inputShape = model.type === 'mlp' ? [SIDE * SIDE] : [SIDE, SIDE, 1];
  return buildMultiTaskModel(model, {
    architecture: 'hard',
    inputShape,
    experts: 1,
    rng: new Rng(3),
    heads: ['a', 'b', 'c'].map((task) => ({ task, hidden: headHidden, classes: CLASSES })),
  });
}

const variablesOf = (layers: tf.layers.Layer[]): tf.Variable[] =>
  layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));

/** The relative max difference of two vectors (to the larger's max magnitude). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!), Math.abs(b[i]!));
  }
  return worst / scale;
}

function disposeGrads(g: TaskGradients): void {
  tf.dispose([...g.normed, ...g.losses, ...g.correct, ...g.heads.flatMap((h) => Object.values(h))]);
}

for (const [name, model, headHidden] of [
  ['MultiLeNet-like convnet', CNN, [8]],
  ['wide convnet (im2col, same padding, no-pool block, two trunk layers)', WIDE, [8, 6]],
  ['MLP trunk, linear heads', MLP, []],
] as const) {
  test(`${name}, three tasks: fused per-task gradients match the generic ones`, () => {
    const m = build(model, [...headHidden]);
    const data = images(N, 11);
    const shape = model.type === 'mlp' ? [N, SIDE * SIDE] : [N, SIDE, SIDE, 1];
    const x = tf.tensor(data.x, shape);
    const labels = [data.a, data.b, data.a.map((v, i) => (v + i) % CLASSES)].map((l) => tf.tensor1d(l, 'int32'));
    const index = Int32Array.from({ length: 53 }, (_, i) => (i * 37 + 5) % N);
    const idxT = tf.tensor1d(index, 'int32');
    const shared = variablesOf(m.sharedLayers);
    const heads = m.heads.map(variablesOf);
    const plan = planFusedTaskGrads(
      m.trunk.layers.filter((l) => !m.heads.flat().includes(l)),
      m.heads,
      shared,
      heads,
      { x, labels, numClasses: [CLASSES, CLASSES, CLASSES] },
    );
    assert.ok(plan, 'the network is planned');
    const env: StepEnv = {
      model: m,
      batch: {
        x: [tf.gather(x, idxT)],
        y: labels.map((l) => tf.gather(l, idxT) as tf.Tensor1D),
        soft: [null, null, null],
      },
      tasks: labels.map(() => ({ group: 0, numClasses: CLASSES })),
      distill: null,
      normalize: 'none',
      initial: [],
      shared,
      heads,
      kernels: [],
      regularization: { l1: 0, l2: 0 },
    };
    const before = taskCalls();
    const generic = perTaskGradients(env);
    assert.equal(taskCalls(), before, 'the generic path never runs the fused kernel');
    const initial = [...env.initial];
    env.initial.length = 0;
    const fused = perTaskGradients({ ...env, fused: { plan, x, labels, index } });
    assert.equal(taskCalls() - before, 1, 'one MtlCnnTaskGrads call for every task');
    assert.equal(env.initial.length, initial.length, 'first-step losses recorded');
    initial.forEach((l, t) => {
      assert.ok(Math.abs(env.initial[t]! - l) <= 1e-5 * l, `task ${t} first-step loss ${l} vs ${env.initial[t]}`);
    });
    labels.forEach((_, t) => {
      const [gl, fl] = [generic.losses[t]!.dataSync()[0]!, fused.losses[t]!.dataSync()[0]!];
      assert.ok(Math.abs(gl - fl) <= 1e-5 * gl, `task ${t} loss ${gl} vs ${fl}`);
      assert.equal(fused.normed[t]!.dataSync()[0], fl, 'L̂_t = L_t');
      assert.equal(fused.correct[t]!.dataSync()[0], generic.correct[t]!.dataSync()[0], `task ${t} correct`);
      assert.equal(fused.shared[t]!.length, generic.shared[t]!.length);
      const d = relDiff(generic.shared[t]!, fused.shared[t]!);
      assert.ok(d <= 1e-4, `task ${t} shared gradient: relative max |Δ| ${d}`);
      // Per variable too (a small variable's gradient would hide in the whole vector's scale).
      let offset = 0;
      for (const v of shared) {
        const [a, b] = [generic.shared[t]!, fused.shared[t]!].map((g) => g.subarray(offset, offset + v.size));
        const dv = relDiff(a!, b!);
        assert.ok(dv <= 1e-4, `task ${t} ${v.name}: relative max |Δ| ${dv}`);
        offset += v.size;
      }
      assert.deepEqual(Object.keys(fused.heads[t]!).sort(), Object.keys(generic.heads[t]!).sort());
      for (const [k, g] of Object.entries(generic.heads[t]!)) {
        const f = fused.heads[t]![k]!;
        assert.deepEqual(f.shape, g.shape, k);
        const dh = relDiff(g.dataSync(), f.dataSync());
        assert.ok(dh <= 1e-4, `task ${t} ${k}: relative max |Δ| ${dh}`);
      }
    });
    // MGDA-UB's gradients at the shared representation, from the same kernel without the trunk's backward.
    const repGeneric = representationGradients(env);
    const before3 = taskCalls();
    const repFused = representationGradients({ ...env, fused: { plan, x, labels, index } });
    assert.equal(taskCalls() - before3, 1, 'one MtlCnnTaskGrads call for the representation gradients');
    repGeneric.grads.forEach((g, t) => {
      const d = relDiff(g, repFused.grads[t]!);
      assert.ok(d <= 1e-4, `task ${t} representation gradient: relative max |Δ| ${d}`);
      repGeneric.gram[t]!.forEach((v, u) => {
        const f = repFused.gram[t]![u]!;
        assert.ok(Math.abs(v - f) <= 1e-4 * Math.abs(repGeneric.gram[t]![t]!), `gram[${t}][${u}] ${v} vs ${f}`);
      });
    });
    const tensors = tf.memory().numTensors;
    disposeGrads(generic);
    const held = tensors - tf.memory().numTensors;
    const before2 = tf.memory().numTensors;
    disposeGrads(fused);
    assert.equal(before2 - tf.memory().numTensors, held, 'the fused path hands over as many tensors, nothing leaks');
    tf.dispose([x, ...labels, idxT, ...env.batch.x, ...env.batch.y]);
    m.model.dispose();
  });
}

function taskData(): MultiTaskData {
  const split = (n: number, seed: number) => {
    const d = images(n, seed);
    return { x: d.x, n, raw: d.x, a: d.a, b: d.b };
  };
  const g = { train: split(N, 3), val: split(40, 4), test: split(40, 5) };
  const labels = (k: 'a' | 'b') => ({ train: g.train[k], val: g.val[k], test: g.test[k] });
  const names = ['0', '1', '2', '3'];
  return {
    groups: [{ dataset: 'one', name: 'one', train: g.train, val: g.val, test: g.test, rawTrain: new Uint8Array(0) }],
    tasks: [
      { name: 'a', group: 0, numClasses: CLASSES, classNames: names, labels: labels('a') },
      { name: 'b', group: 0, numClasses: CLASSES, classNames: names, labels: labels('b') },
    ],
    preprocess: { inputShape: [SIDE, SIDE, 1], steps: [] },
    imageShape: [SIDE, SIDE, 1],
    seeds: {},
  };
}

interface Trained {
  losses: number[];
  weights: Float32Array[];
  tasks: number;
  steps: number;
}

/** `steps` steps of a two-task hard-sharing program with `weighting` (L2 on: its gradient is added on the host). */
function train(
  fused: boolean,
  weighting: WeightingName,
  steps: number,
  normalizeLosses: 'none' | 'log' = 'none',
): Trained {
  if (fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  const config = configSchema.parse({
    name: 't',
    trainer: { mode: 'multitask', batchSize: 37, optimizer: { lr: 0.01 } },
    tasks: [
      { name: 'a', head: { hidden: [8] } },
      { name: 'b', head: { hidden: [8] } },
    ],
    multitask: { weighting, architecture: 'hard', normalizeLosses },
  });
  const data = taskData();
  const m = buildMultiTaskModel(CNN, {
    architecture: 'hard',
    inputShape: [SIDE, SIDE, 1],
    experts: 1,
    rng: new Rng(3),
    heads: config.tasks.map((t) => ({ task: t.name, hidden: t.head.hidden, classes: CLASSES })),
  });
  const trainSplit = taskSplitToDevice(data, 'train', [SIDE, SIDE, 1]);
  const optimizer = createOptimizer(config.trainer.optimizer);
  const [tasks0, steps0] = [taskCalls(), stepCalls()];
  const program = createMultiTaskProgram({
    model: m,
    tasks: config.tasks,
    taskInfo: data.tasks.map((t) => ({ group: t.group, numClasses: CLASSES })),
    train: trainSplit,
    val: null,
    multitask: config.multitask,
    batchSize: 37,
    regularization: { l1: 0, l2: 1e-3 },
    optimizer,
    rng: new Rng(9),
    soft: [null, null],
    distill: null,
    scoreValidation: () => ({ metrics: {}, monitor: 0 }),
  });
  delete process.env.MTL_FUSED;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    if (s % program.stepsPerEpoch === 0) program.beginEpoch(1 + s / program.stepsPerEpoch);
    const r = program.step(0.01);
    losses.push(r.loss.dataSync()[0]!);
    tf.dispose([r.loss, r.correct!]);
  }
  const weights = m.model.getWeights().map((w) => w.dataSync() as Float32Array);
  program.dispose();
  tf.dispose([...trainSplit.groups.map((g) => g.x), ...trainSplit.labels]);
  optimizer.dispose();
  m.model.dispose();
  return { losses, weights, tasks: taskCalls() - tasks0, steps: stepCalls() - steps0 };
}

for (const weighting of ['pcgrad', 'cagrad', 'gradnorm', 'mgda'] as const) {
  test(`${weighting}: fused per-task gradients train as the generic path does, one kernel call per step, bit-repeatable`, () => {
    const generic = train(false, weighting, 9);
    assert.equal(generic.tasks, 0, 'MTL_FUSED=0: the generic path');
    const fused = train(true, weighting, 9);
    assert.equal(fused.tasks, 9, 'one MtlCnnTaskGrads per step');
    // MGDA-UB's loss-weighted step with this step's weights is the fused step (MtlCnnStep) too.
    assert.equal(fused.steps, weighting === 'mgda' ? 9 : 0, 'fused loss-weighted steps');
    assert.equal(generic.steps, 0);
    generic.losses.forEach((l, s) => {
      assert.ok(Math.abs(l - fused.losses[s]!) <= 1e-4 * l, `step ${s} objective ${l} vs ${fused.losses[s]}`);
    });
    generic.weights.forEach((w, i) => {
      const d = relDiff(w, fused.weights[i]!);
      // Adam turns gradient rounding into weight differences of up to ~lr where a gradient is near ε.
      assert.ok(d <= 2e-3, `weight ${i}: relative max |Δ| ${d}`);
    });
    const again = train(true, weighting, 9);
    assert.deepEqual(again.losses, fused.losses, 'the same objectives');
    again.weights.forEach((w, i) => {
      assert.ok(Buffer.from(w.buffer).equals(Buffer.from(fused.weights[i]!.buffer)), `weight ${i} bit for bit`);
    });
  });
}

test('normalised losses take the fused per-task kernel too (gradients rescaled by dL̂/dL)', () => {
  // Two steps each; their results are held to the generic path in pertask-fused.test.ts.
  assert.equal(train(true, 'pcgrad', 2, 'log').tasks, 2, 'log-normalised PCGrad: fused');
  assert.equal(train(true, 'mgda', 2, 'log').tasks, 2, 'log-normalised MGDA-UB: fused representation gradients');
});
