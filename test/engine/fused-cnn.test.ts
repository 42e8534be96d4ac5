// The fused convnet training step (src/engine/fused/cnn.ts) against the generic tfjs step on the same
// seeded models and batches: single-task (classifier.ts) and two-task hard sharing with equal or
// static weighting (multitask/program.ts). Losses, correct counts, weights and Adam moments agree to
// float tolerance; the fused kernel ran once per step; unsupported setups take the generic path.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { CnnConfig, WeightingName } from '../../src/config/types.ts';
import type { MultiTaskData } from '../../src/data/multi-prepare.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { buildModel } from '../../src/models/build.ts';
import { buildMultiTaskModel } from '../../src/models/multitask/build.ts';
import { Rng } from '../../src/random/rng.ts';
import type { LoopProgram } from '../../src/train/loop.ts';
import { taskSplitToDevice } from '../../src/train/multitask/data.ts';
import { createMultiTaskProgram } from '../../src/train/multitask/program.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { createClassifierProgram, type ParamGroup } from '../../src/train/single/classifier.ts';
import { block, CLASSES, images, restoreFusedAfter, SIDE } from './convnet-data.ts';

restoreFusedAfter();

before(async () => {
  await initBackend('wasm');
});

// 6 channels: the pool's last quad of channels overlaps the one before (kernels.c max_pool_tiled).
const CNN: CnnConfig = { type: 'cnn', conv: [block(6, 3), block(8, 3)], dense: [16], activation: 'relu', dropout: 0 };

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function withFused<T>(fused: boolean, make: () => T): T {
  if (fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  try {
    return make();
  } finally {
    delete process.env.MTL_FUSED;
  }
}

/** `steps` steps of a loop program (epochs restart as needed); per-step loss and correct. */
function run(program: LoopProgram, steps: number, lr: number): Array<{ loss: number; correct: number }> {
  const out: Array<{ loss: number; correct: number }> = [];
  for (let s = 0; s < steps; s++) {
    if (s % program.stepsPerEpoch === 0) program.beginEpoch(1 + s / program.stepsPerEpoch);
    const r = program.step(lr);
    out.push({ loss: r.loss.dataSync()[0]!, correct: r.correct!.dataSync()[0]! });
    tf.dispose([r.loss, r.correct!]);
  }
  return out;
}

interface Trained {
  steps: Array<{ loss: number; correct: number }>;
  weights: Float32Array[];
  optimizer: Float32Array[];
  /** The optimizer's weight names (what a checkpoint saves them under). */
  names: string[];
  iterations: number;
  betaPowers: number[];
}

async function finish(model: tf.LayersModel, optimizer: tf.Optimizer, steps: Trained['steps']): Promise<Trained> {
  const o = optimizer as unknown as { iterations: number; accBeta1: tf.Variable; accBeta2: tf.Variable };
  const saved = await optimizer.getWeights();
  return {
    names: saved.map((w) => w.name),
    steps,
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
    optimizer: (await optimizer.getWeights()).map((w) => w.tensor.dataSync() as Float32Array),
    iterations: o.iterations,
    betaPowers: [o.accBeta1.dataSync()[0]!, o.accBeta2.dataSync()[0]!],
  };
}

async function single(
  fused: boolean,
  model: CnnConfig,
  steps: number,
  batchSize: number,
  regularization = { l1: 0, l2: 0 },
): Promise<Trained & { isFused: boolean }> {
  const cfg = defaultConfig('t');
  const built = buildModel(model, { imageShape: [SIDE, SIDE, 1], numClasses: CLASSES, rng: new Rng(7) });
  const data = images(150, 3);
  const optimizer = createOptimizer({ ...cfg.trainer.optimizer, lr: 0.01 });
  const groups: ParamGroup[] = [
    { name: 'all', layers: built.model.layers.filter((l) => l.trainableWeights.length > 0), optimizer, lrScale: 1 },
  ];
  const x = tf.tensor4d(data.x, [150, SIDE, SIDE, 1]);
  const y = tf.tensor1d(data.a, 'int32');
  const program = withFused(fused, () =>
    createClassifierProgram({
      model: built.model,
      train: { x, y, n: 150 },
      val: null,
      numClasses: CLASSES,
      batchSize,
      groups,
      regularization,
      rng: new Rng(5),
      scoreValidation: () => ({ metrics: {}, monitor: 0 }),
    }),
  );
  const out = await finish(built.model, optimizer, run(program, steps, 0.01));
  tf.dispose([x, y]);
  return { ...out, isFused: program.fused() };
}

function assertClose(a: Trained, b: Trained, tol: number): void {
  a.steps.forEach((r, i) => {
    const f = b.steps[i]!;
    assert.ok(Math.abs(r.loss - f.loss) <= tol * Math.max(1, r.loss), `step ${i} loss ${r.loss} vs ${f.loss}`);
    assert.ok(Math.abs(r.correct - f.correct) <= 1, `step ${i} correct ${r.correct} vs ${f.correct}`);
  });
  a.weights.forEach((w, i) => {
    const scale = Math.max(1e-3, ...Array.from(w, Math.abs));
    const d = maxDiff(w, b.weights[i]!);
    assert.ok(d <= tol * scale, `weight ${i}: max |Δ| ${d} (scale ${scale})`);
  });
  assert.equal(b.optimizer.length, a.optimizer.length, 'same optimizer weights');
  assert.deepEqual(
    b.names.map((n) => n.replace(/(kernel|bias)_\d+\//, '$1/')),
    a.names.map((n) => n.replace(/(kernel|bias)_\d+\//, '$1/')),
    'same optimizer weight names (up to the model instance suffix)',
  );
  a.optimizer.forEach((w, i) => {
    const d = maxDiff(w, b.optimizer[i]!);
    assert.ok(d <= tol * Math.max(...Array.from(w, Math.abs)), `optimizer weight ${i}: max |Δ| ${d}`);
  });
  assert.equal(b.iterations, a.iterations);
  assert.deepEqual(b.betaPowers, a.betaPowers);
}

const stepCalls = (): number => kernelCalls.get('MtlCnnStep') ?? 0;

test('single-task convnet: fused and generic steps agree (batch 48: a short last batch of 6)', async () => {
  const start = stepCalls();
  const generic = await single(false, CNN, 8, 48);
  assert.equal(generic.isFused, false);
  assert.equal(stepCalls(), start, 'the generic path never runs the fused kernel');
  const fused = await single(true, CNN, 8, 48);
  assert.equal(fused.isFused, true);
  assert.equal(stepCalls() - start, 8, 'one MtlCnnStep per fused step');
  assertClose(generic, fused, 2e-5);
});

test('single-task convnet, wider channels (im2col paths), same padding, a block without pool', async () => {
  const wide: CnnConfig = {
    ...CNN,
    conv: [block(6, 3, 0, 'same'), block(20, 3, 2), block(24, 3, 2)],
    dense: [12, 10],
  };
  // conv_3 (20 → 24) would take Winograd forward (the next test covers it): kept on im2col here.
  const saved = process.env.MTL_WINOGRAD;
  process.env.MTL_WINOGRAD = '0';
  let generic: Trained;
  let fused: Trained & { isFused: boolean };
  try {
    generic = await single(false, wide, 6, 37);
    fused = await single(true, wide, 6, 37);
  } finally {
    if (saved === undefined) delete process.env.MTL_WINOGRAD;
    else process.env.MTL_WINOGRAD = saved;
  }
  assert.equal(fused.isFused, true);
  // 1e-4: some of conv_3's gradients are ~1e-7, Adam's ε, where its step turns rounding in the
  // gradient (other sum orders) into ~3e-5 of the weight scale after one step (measured; others ≤ 1e-6).
  assertClose(generic, fused, 1e-4);
});

test('single-task convnet with a 20 → 36 3x3 layer: Winograd forward and both gradients in the fused step', async () => {
  const wino: CnnConfig = {
    ...CNN,
    conv: [block(6, 3, 0, 'same'), block(20, 3, 2), block(36, 3, 2)],
    dense: [12],
  };
  // conv_3 (6x6x20 → 4x4x36): F(4x4) for the forward pass and the filter gradient (a 4x4 output: one
  // tile), and for the input gradient as the forward's adjoint (dy's one tile: 36 products, against 144
  // for the full correlation over 6x6 with either size); with MTL_WINOGRAD4=0 all three F(2x2), the
  // input gradient still the adjoint (4 tiles: 64 products against 144).
  // Tolerance: conv_3's kernel is where fused and generic differ most, as in the test above (Adam's
  // step turns rounding in ~1e-7 gradients into weight changes); measured 2026-11-30: 7.2e-5 of its scale
  // with F(2x2), 3.3e-4 with F(4x4) (its transforms round ~5x worse); every other weight ≤ 1.3e-5.
  for (const [four, f4, f2, adjoint, tol] of [
    [undefined, 2, 0, 'winograd4-adjoint', 5e-4],
    ['0', 0, 2, 'winograd-adjoint', 1e-4],
  ] as const) {
    const count = (path: string): number => kernelCalls.get(`MtlCnnStep:${path}`) ?? 0;
    const saved = process.env.MTL_WINOGRAD4;
    if (four === undefined) delete process.env.MTL_WINOGRAD4;
    else process.env.MTL_WINOGRAD4 = four;
    try {
      const [start4, start2, startAdjoint] = [count('winograd4'), count('winograd'), count(adjoint)];
      const generic = await single(false, wino, 5, 37);
      assert.equal(
        count('winograd4') + count('winograd') + count(adjoint),
        start4 + start2 + startAdjoint,
        'the generic path never runs the fused kernel',
      );
      const fused = await single(true, wino, 5, 37);
      assert.equal(fused.isFused, true);
      // conv_3: its forward pass and both gradients, once per step.
      assert.equal(count('winograd4') - start4, f4 * 5, `F(4x4) passes per fused step (MTL_WINOGRAD4=${four})`);
      assert.equal(count('winograd') - start2, f2 * 5, `F(2x2) passes per fused step (MTL_WINOGRAD4=${four})`);
      assert.equal(count(adjoint) - startAdjoint, 5, `${adjoint} input gradients (MTL_WINOGRAD4=${four})`);
      assertClose(generic, fused, tol);
    } finally {
      if (saved === undefined) delete process.env.MTL_WINOGRAD4;
      else process.env.MTL_WINOGRAD4 = saved;
    }
  }
});

function taskData(): MultiTaskData {
  const split = (n: number, seed: number) => {
    const d = images(n, seed);
    return { x: d.x, n, raw: d.x, a: d.a, b: d.b };
  };
  const g = { train: split(150, 3), val: split(40, 4), test: split(40, 5) };
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

interface MultiSetup {
  weighting?: WeightingName;
  weights?: [number, number];
  l2?: number;
  normalizeLosses?: 'none' | 'log';
}

async function multi(
  fused: boolean,
  steps: number,
  batchSize: number,
  s: MultiSetup = {},
): Promise<Trained & { losses: number[][] }> {
  const config = configSchema.parse({
    name: 't',
    trainer: { mode: 'multitask', batchSize, optimizer: { lr: 0.01 } },
    tasks: [
      { name: 'a', head: { hidden: [8] }, weight: s.weights?.[0] ?? 1 },
      { name: 'b', head: { hidden: [8] }, weight: s.weights?.[1] ?? 1 },
    ],
    multitask: {
      weighting: s.weighting ?? 'equal',
      architecture: 'hard',
      normalizeLosses: s.normalizeLosses ?? 'none',
    },
  });
  const data = taskData();
  const m = buildMultiTaskModel(CNN, {
    architecture: 'hard',
    inputShape: [SIDE, SIDE, 1],
    experts: 1,
    rng: new Rng(3),
    heads: config.tasks.map((t) => ({ task: t.name, hidden: t.head.hidden, classes: CLASSES })),
  });
  const train = taskSplitToDevice(data, 'train', [SIDE, SIDE, 1]);
  const optimizer = createOptimizer(config.trainer.optimizer);
  const program = withFused(fused, () =>
    createMultiTaskProgram({
      model: m,
      tasks: config.tasks,
      taskInfo: data.tasks.map((t) => ({ group: t.group, numClasses: CLASSES })),
      train,
      val: null,
      multitask: config.multitask,
      batchSize,
      regularization: { l1: 0, l2: s.l2 ?? 0 },
      optimizer,
      rng: new Rng(9),
      soft: [null, null],
      distill: null,
      scoreValidation: () => ({ metrics: {}, monitor: 0 }),
    }),
  );
  const out = await finish(m.model, optimizer, run(program, steps, 0.01));
  const extras = program.epochExtras!() as { trainTasks: Record<string, { loss: number }> };
  program.dispose();
  tf.dispose([...train.groups.map((g) => g.x), ...train.labels]);
  return { ...out, losses: [[extras.trainTasks.a!.loss, extras.trainTasks.b!.loss]] };
}

test('two-task hard sharing (equal): fused and generic agree, per-task losses recorded alike', async () => {
  const start = stepCalls();
  const generic = await multi(false, 7, 37);
  assert.equal(stepCalls(), start, 'the generic path never runs the fused kernel');
  const fused = await multi(true, 7, 37);
  assert.equal(stepCalls() - start, 7, 'one MtlCnnStep per fused step');
  assertClose(generic, fused, 2e-5);
  generic.losses[0]!.forEach((l, t) => {
    assert.ok(Math.abs(l - fused.losses[0]![t]!) <= 1e-5 * l, `task ${t} epoch loss ${l} vs ${fused.losses[0]![t]}`);
  });
});

test('two-task static weights with an L2 penalty: they agree; normalisation, other weightings stay generic', async () => {
  const start = stepCalls();
  const s: MultiSetup = { weighting: 'static', weights: [0.3, 1.7], l2: 1e-2 };
  const generic = await multi(false, 5, 64, s);
  const fused = await multi(true, 5, 64, s);
  assert.equal(stepCalls() - start, 5);
  assertClose(generic, fused, 2e-5);
  for (const s of [{ normalizeLosses: 'log' as const }, { weighting: 'uncertainty' as const }]) {
    const before = stepCalls();
    await multi(true, 2, 64, s);
    assert.equal(stepCalls(), before, `generic for ${JSON.stringify(s)}`);
  }
});

test('tf.memory().numTensors stays flat across fused multi-task steps', async () => {
  const config = CNN;
  assert.ok(config.conv.length === 2);
  const before = tf.memory().numTensors;
  await multi(true, 3, 64);
  const mid = tf.memory().numTensors;
  await multi(true, 9, 64);
  assert.equal(tf.memory().numTensors - mid, mid - before, 'the same leftover (the model) whatever the step count');
});

test('single-task convnet with L1 + L2 penalties: they agree (the penalty is in the loss)', async () => {
  const regularization = { l1: 1e-3, l2: 1e-2 };
  const generic = await single(false, CNN, 5, 64, regularization);
  const fused = await single(true, CNN, 5, 64, regularization);
  assert.equal(fused.isFused, true);
  assertClose(generic, fused, 2e-5);
  const plain = await single(true, CNN, 1, 64);
  assert.ok(fused.steps[0]!.loss - plain.steps[0]!.loss > 0.01, 'the penalty adds to the loss');
});
