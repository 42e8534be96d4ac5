// The fused dense training step (src/engine/fused-dense.ts) against the generic tfjs step of
// classifier.ts on the same seeded models and batches: losses, correct counts, weights and Adam
// moments agree to float tolerance; frozen layers stay bit-identical; per-group LR scales apply;
// unsupported setups take the generic path; MTL_FUSED=0 turns it off; tensor counts stay flat.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { OptimizerConfig, RegularizationConfig } from '../../src/config/types.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { CACHED_ROWS, fusedDenseStep, fusedDenseTuning, planFusedDense } from '../../src/engine/fused/dense.ts';
import { rowCacheTuning } from '../../src/engine/fused/row-cache.ts';
import { STATE_IN_PLACE, STATE_NEW_TENSOR } from '../../src/engine/fused/step-state.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { buildModel } from '../../src/models/build.ts';
import { Rng } from '../../src/random/rng.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { isKernel, regularizationPenalty } from '../../src/train/regularization.ts';
import { type ClassifierProgram, createClassifierProgram, type ParamGroup } from '../../src/train/single/classifier.ts';

const FEATURES = 20;
const CLASSES = 5;
const savedFused = process.env.MTL_FUSED;

before(async () => {
  await initBackend('wasm');
});

after(() => {
  if (savedFused === undefined) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = savedFused;
});

/** Sparse non-negative features (like pixels: ~70% exact zeros, so the fused step's sparse first
 *  layer runs) with a learnable class signal. */
function dataset(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D; n: number } {
  const rng = new Rng(seed);
  const xs = new Float32Array(n * FEATURES);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = i % CLASSES;
    for (let f = 0; f < FEATURES; f++) {
      const v = rng.normal() + (f % CLASSES === ys[i] ? 1.5 : 0);
      xs[i * FEATURES + f] = v > 0.8 ? v : 0;
    }
  }
  return { x: tf.tensor2d(xs, [n, FEATURES]), y: tf.tensor1d(ys, 'int32'), n };
}

interface Setup {
  hidden?: number[];
  dropout?: number;
  activation?: 'relu' | 'tanh' | 'linear';
  optimizer?: Partial<OptimizerConfig>;
  regularization?: RegularizationConfig;
  /** Groups by layer names; layers in none are frozen. Default: every weighted layer in one group. */
  groups?: Array<{ layers: string[]; lrScale: number }>;
  fused: boolean;
  batchSize?: number;
}

interface Run {
  program: ClassifierProgram;
  model: tf.LayersModel;
  groups: ParamGroup[];
  data: { x: tf.Tensor2D; y: tf.Tensor1D; n: number };
}

function makeRun(s: Setup): Run {
  const cfg = defaultConfig('t');
  const built = buildModel(
    { type: 'mlp', hidden: s.hidden ?? [16], activation: s.activation ?? 'relu', dropout: s.dropout ?? 0 },
    { imageShape: [1, 1, FEATURES], numClasses: CLASSES, rng: new Rng(7) },
  );
  const weighted = built.model.layers.filter((l) => l.trainableWeights.length > 0);
  const plans = s.groups ?? [{ layers: weighted.map((l) => l.name), lrScale: 1 }];
  const groups: ParamGroup[] = plans.map((g, i) => ({
    name: `g${i}`,
    layers: g.layers.map((n) => built.model.getLayer(n)),
    lrScale: g.lrScale,
    optimizer: createOptimizer({ ...cfg.trainer.optimizer, lr: 0.01, ...s.optimizer }),
  }));
  const data = dataset(150, 3);
  if (s.fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  const program = createClassifierProgram({
    model: built.model,
    train: data,
    val: null,
    numClasses: CLASSES,
    batchSize: s.batchSize ?? 32,
    groups,
    regularization: s.regularization ?? { l1: 0, l2: 0 },
    rng: new Rng(5),
    scoreValidation: () => ({ metrics: {}, monitor: 0 }),
  });
  delete process.env.MTL_FUSED;
  return { program, model: built.model, groups, data };
}

/** `steps` steps (epochs of ceil(150 / batch) steps, the last one short); per-step loss and correct. */
function train(run: Run, steps: number, lr = 0.01): Array<{ loss: number; correct: number }> {
  const out: Array<{ loss: number; correct: number }> = [];
  for (let s = 0; s < steps; s++) {
    if (s % run.program.stepsPerEpoch === 0) run.program.beginEpoch(1 + s / run.program.stepsPerEpoch);
    const r = run.program.step(lr);
    out.push({ loss: r.loss.dataSync()[0]!, correct: r.correct!.dataSync()[0]! });
    tf.dispose([r.loss, r.correct!]);
  }
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

async function optimizerWeights(run: Run): Promise<Float32Array[]> {
  const all: Float32Array[] = [];
  for (const g of run.groups)
    for (const w of await g.optimizer.getWeights()) all.push(w.tensor.dataSync() as Float32Array);
  return all;
}

/** Same losses, correct counts, weights and Adam state on both paths, within `tol` (absolute for
 *  weights, relative to the loss and to each moment tensor's largest value): measured ≤ 5e-7, 3e-8, 2e-7. */
async function assertSamePath(s: Omit<Setup, 'fused'>, steps = 10, tol = 1e-6): Promise<{ fused: Run; generic: Run }> {
  const generic = makeRun({ ...s, fused: false });
  const fused = makeRun({ ...s, fused: true });
  assert.equal(generic.program.fused(), false, 'MTL_FUSED=0 takes the generic path');
  assert.equal(fused.program.fused(), true, 'the fused path is chosen');
  const stepCalls = (): number => kernelCalls.get('MtlDenseStep') ?? 0;
  const start = stepCalls();
  const a = train(generic, steps);
  assert.equal(stepCalls(), start, 'the generic path never runs the fused kernel');
  const b = train(fused, steps);
  assert.equal(stepCalls() - start, steps, 'one MtlDenseStep kernel call per fused step');
  a.forEach((r, i) => {
    assert.ok(Math.abs(r.loss - b[i]!.loss) <= tol * Math.max(1, r.loss), `step ${i} loss ${r.loss} vs ${b[i]!.loss}`);
    assert.equal(b[i]!.correct, r.correct, `step ${i} correct`);
  });
  const [wa, wb] = [generic.model.getWeights(), fused.model.getWeights()];
  wa.forEach((w, i) => {
    const d = maxDiff(w.dataSync(), wb[i]!.dataSync());
    assert.ok(d <= tol, `weight ${generic.model.weights[i]!.name}: max |Δ| ${d}`);
  });
  const [oa, ob] = [await optimizerWeights(generic), await optimizerWeights(fused)];
  assert.equal(ob.length, oa.length, 'same optimizer weights');
  oa.forEach((w, i) => {
    const d = maxDiff(w, ob[i]!);
    assert.ok(d <= tol * Math.max(...Array.from(w, Math.abs)), `optimizer weight ${i}: max |Δ| ${d}`);
  });
  generic.groups.forEach((g, i) => {
    const [og, of] = [g.optimizer, fused.groups[i]!.optimizer] as unknown as Array<{
      iterations: number;
      accBeta1: tf.Variable;
      accBeta2: tf.Variable;
    }>;
    assert.equal(of!.iterations, og!.iterations);
    // The β-powers are state too (not in getWeights): the same float32 bits.
    assert.deepEqual(
      [of!.accBeta1.dataSync()[0], of!.accBeta2.dataSync()[0]],
      [og!.accBeta1.dataSync()[0], og!.accBeta2.dataSync()[0]],
    );
  });
  return { fused, generic };
}

test('one hidden layer: fused and generic steps agree over 10 steps (short last batch included)', async () => {
  await assertSamePath({ hidden: [16] }, 10);
});

test('two hidden layers, L1 + L2 penalties: they still agree, and the penalty is in the loss', async () => {
  const regularization = { l1: 1e-3, l2: 1e-2 };
  await assertSamePath({ hidden: [24, 12], regularization }, 10);
  // First step from the same weights, with and without: the losses differ by λ1·Σ|w| + λ2·Σw².
  const penalised = makeRun({ hidden: [24, 12], regularization, fused: true });
  const plain = makeRun({ hidden: [24, 12], fused: true });
  const kernels = penalised.model.weights.filter(isKernel).map((w) => w.read());
  const expected = tf.tidy(() => regularizationPenalty(kernels, regularization)!.dataSync()[0]!);
  const [withPenalty, without] = [train(penalised, 1)[0]!.loss, train(plain, 1)[0]!.loss];
  assert.ok(expected > 0.01);
  assert.ok(
    Math.abs(withPenalty - without - expected) <= 1e-6 * withPenalty,
    `${withPenalty} - ${without} vs ${expected}`,
  );
});

test('a linear hidden layer: they agree', async () => {
  await assertSamePath({ hidden: [12], activation: 'linear' }, 6);
});

test('lrScale groups: one Adam per group at its own scale, same as the generic path', async () => {
  await assertSamePath(
    {
      hidden: [16, 8],
      groups: [
        { layers: ['head'], lrScale: 1 },
        { layers: ['dense_2'], lrScale: 0.3 },
        { layers: ['dense_1'], lrScale: 0.1 },
      ],
    },
    8,
  );
});

test('frozen layers (linear probe, and a frozen layer between trained ones) stay bit-identical', async () => {
  const probe = await assertSamePath({ hidden: [16, 8], groups: [{ layers: ['head'], lrScale: 1 }] }, 6);
  const before = makeRun({ hidden: [16, 8], fused: true })
    .model.getWeights()
    .map((w) => w.dataSync().slice());
  const names = probe.fused.model.weights.map((w) => w.name);
  probe.fused.model.getWeights().forEach((w, i) => {
    if (names[i]!.startsWith('head')) assert.ok(maxDiff(w.dataSync(), before[i]!) > 0, `${names[i]} trained`);
    else assert.deepEqual(w.dataSync(), before[i], `${names[i]} frozen`);
  });
  const sandwich = await assertSamePath({ hidden: [16, 8], groups: [{ layers: ['head', 'dense_1'], lrScale: 1 }] }, 6);
  const i = sandwich.fused.model.weights.findIndex((w) => w.name.startsWith('dense_2'));
  assert.deepEqual(sandwich.fused.model.getWeights()[i]!.dataSync(), before[i], 'dense_2 frozen');
});

test('deterministic: the same seed twice gives the same bits', () => {
  const [a, b] = [makeRun({ hidden: [16, 8], fused: true }), makeRun({ hidden: [16, 8], fused: true })];
  assert.deepEqual(train(a, 7), train(b, 7));
  a.model.getWeights().forEach((w, i) => {
    assert.deepEqual(w.dataSync(), b.model.getWeights()[i]!.dataSync());
  });
});

test('the sparse first layer gives the same bits as the dense gemms (zeros skipped, same sum order)', () => {
  const density = tf.tidy(() => dataset(150, 3).x.notEqual(0).mean().dataSync()[0]!);
  assert.ok(density < fusedDenseTuning.maxSparseDensity, `test data density ${density} takes the sparse path`);
  const saved = fusedDenseTuning.maxSparseDensity;
  const sparse = makeRun({ hidden: [16, 8], fused: true, batchSize: 64 });
  const dense = makeRun({ hidden: [16, 8], fused: true, batchSize: 64 });
  const a = train(sparse, 8);
  fusedDenseTuning.maxSparseDensity = 0;
  let b: ReturnType<typeof train>;
  try {
    b = train(dense, 8);
  } finally {
    fusedDenseTuning.maxSparseDensity = saved;
  }
  assert.deepEqual(b, a);
  const [wa, wb] = [sparse.model.getWeights(), dense.model.getWeights()];
  wa.forEach((w, i) => {
    const [x, y] = [w.dataSync(), wb[i]!.dataSync()];
    // === rather than deepEqual: a skipped ±0 term may flip the sign of an exact zero, nothing else.
    for (let j = 0; j < x.length; j++)
      assert.ok(x[j] === y[j], `${sparse.model.weights[i]!.name}[${j}]: ${x[j]} vs ${y[j]}`);
  });
});

test("the row cache: later epochs copy each row's kept entries, the same bits as compressing afresh (a full cache, no room)", () => {
  const saved = { cache: fusedDenseTuning.rowCache, tuning: { ...rowCacheTuning } };
  const run = (cache: boolean, tuning: Partial<typeof rowCacheTuning> = {}) => {
    fusedDenseTuning.rowCache = cache;
    Object.assign(rowCacheTuning, tuning);
    try {
      const r = makeRun({ hidden: [16, 8], fused: true, batchSize: 32 });
      const before = kernelCalls.get(CACHED_ROWS) ?? 0;
      const steps = train(r, 15); // three epochs of 150 rows
      const hits = (kernelCalls.get(CACHED_ROWS) ?? 0) - before;
      return { steps, weights: r.model.getWeights().map((w) => w.dataSync()), hits };
    } finally {
      fusedDenseTuning.rowCache = saved.cache;
      Object.assign(rowCacheTuning, saved.tuning);
    }
  };
  const fresh = run(false);
  const cached = run(true);
  const full = run(true, { oversize: 0 }); // room for 16 rows' worth of entries
  const none = run(true, { maxBytes: 1024 }); // not even the row table: no cache at all
  assert.equal(fresh.hits, 0, 'no cache: every row compressed from x');
  assert.equal(cached.hits, 300, 'epochs 2 and 3: all 150 rows from the cache');
  assert.ok(full.hits > 0 && full.hits < 300, `a full cache serves only the rows it kept (${full.hits})`);
  assert.equal(none.hits, 0, 'no room for a cache: every row compressed from x');
  for (const other of [cached, full, none]) {
    assert.deepEqual(other.steps, fresh.steps);
    other.weights.forEach((w, i) => {
      assert.deepEqual(w, fresh.weights[i]);
    });
  }
});

test('the generic path is kept for dropout, other optimizers, tanh and the cpu backend', async () => {
  assert.equal(makeRun({ dropout: 0.2, fused: true }).program.fused(), false, 'dropout');
  assert.equal(makeRun({ optimizer: { name: 'sgd' }, fused: true }).program.fused(), false, 'sgd');
  assert.equal(makeRun({ optimizer: { name: 'rmsprop' }, fused: true }).program.fused(), false, 'rmsprop');
  assert.equal(makeRun({ activation: 'tanh', fused: true }).program.fused(), false, 'tanh');
  const mixed = makeRun({
    hidden: [8],
    fused: true,
    groups: [{ layers: ['head'], lrScale: 1 }],
  });
  assert.equal(mixed.program.fused(), true);
  await tf.setBackend('cpu');
  try {
    assert.equal(makeRun({ fused: true }).program.fused(), false, 'cpu backend');
  } finally {
    await tf.setBackend('wasm');
  }
});

test('MTL_FUSED=0 is read when groups are set (phase changes included)', () => {
  const run = makeRun({ hidden: [8], fused: true });
  assert.equal(run.program.fused(), true);
  process.env.MTL_FUSED = '0';
  try {
    run.program.setGroups(run.groups);
    assert.equal(run.program.fused(), false);
  } finally {
    delete process.env.MTL_FUSED;
  }
  run.program.setGroups(run.groups);
  assert.equal(run.program.fused(), true);
});

test('tf.memory().numTensors stays flat across fused steps; checkpoints see tfjs Adam state', async () => {
  const run = makeRun({ hidden: [16, 8], fused: true });
  train(run, 2);
  const start = tf.memory().numTensors;
  train(run, 12);
  assert.equal(tf.memory().numTensors, start);
  // Moments are the optimizer's own variables: getWeights lists iterations + m, v per weight.
  const weights = await run.groups[0]!.optimizer.getWeights();
  assert.equal(weights.length, 1 + 2 * run.model.trainableWeights.length);
  assert.equal(run.groups[0]!.optimizer.iterations, 14);
  assert.match(weights[1]!.name, /dense_1\/kernel.*\/m$/);
  // Clones taken before a step (captureBest) keep their values: a weight whose memory is shared gets
  // a new tensor; the step after, with the clone gone, writes it in place again.
  const counts = (): number[] => [STATE_IN_PLACE, STATE_NEW_TENSOR].map((k) => kernelCalls.get(k) ?? 0);
  const clone = run.model.weights[0]!.read().clone();
  const kept = clone.dataSync().slice();
  const before = counts();
  train(run, 1);
  const during = counts();
  assert.deepEqual(clone.dataSync(), kept);
  assert.ok(maxDiff(run.model.weights[0]!.read().dataSync(), kept) > 0);
  // 6 weights × (value, m, v) + 2 β-powers: only the cloned kernel was not written in place.
  assert.deepEqual([during[0]! - before[0]!, during[1]! - before[1]!], [19, 1]);
  clone.dispose();
  const dataId = run.model.weights[0]!.read().dataId;
  train(run, 1);
  assert.deepEqual([counts()[0]! - during[0]!, counts()[1]! - during[1]!], [20, 0]);
  assert.equal(run.model.weights[0]!.read().dataId, dataId, 'updated where it lies');
});

test('a step that fails (a row index out of range) leaves weights, moments and β-powers as they were', () => {
  const run = makeRun({ hidden: [8], fused: true });
  train(run, 2); // moments exist, everything unshared: the next step would write in place
  const plan = planFusedDense(run.model, run.groups, {
    x: run.data.x,
    y: run.data.y,
    numClasses: CLASSES,
    regularization: { l1: 0, l2: 0 },
  });
  assert.ok(plan);
  const opt = run.groups[0]!.optimizer as unknown as {
    accBeta1: tf.Variable;
    accBeta2: tf.Variable;
    iterations: number;
  };
  const snapshot = (): number[][] => [
    ...run.model.getWeights().map((w) => Array.from(w.dataSync())),
    [opt.accBeta1.dataSync()[0]!, opt.accBeta2.dataSync()[0]!, opt.iterations],
  ];
  const before = snapshot();
  assert.throws(() => fusedDenseStep(plan, run.data.x, run.data.y, Int32Array.of(0, 150)), /row index 150/);
  assert.deepEqual(snapshot(), before);
});
