// Optimizer state survives a save/restore exactly: an optimizer restored from last/'s files continues
// bit for bit as the uninterrupted one, through tfjs's own applyGradients and mtl's fused Adam kernel.
// For Adam that needs the β-power bits from resume.json: tfjs's setWeights alone recomputes them.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { applyFusedAdam } from '../../src/engine/fused/adam.ts';
import { decodeOptimizers, encodeOptimizers } from '../../src/models/checkpoint-optimizer.ts';
import { Rng } from '../../src/random/rng.ts';
import { optimizerExtras, restoreOptimizers } from '../../src/resume/optimizer-state.ts';
import type { OptimizerExtras } from '../../src/resume/state.ts';

before(async () => {
  await initBackend('wasm');
});

type Apply = (o: tf.Optimizer, grads: tf.NamedTensorMap) => void;
const viaTfjs: Apply = (o, g) => o.applyGradients(g);
const viaFused: Apply = (o, g) => assert.ok(applyFusedAdam(o, g), 'the fused Adam kernel ran');

/** A quadratic with a noisy target, so every step's gradient differs. */
function trainSteps(v: tf.Variable, o: tf.Optimizer, apply: Apply, steps: number, rng: Rng): void {
  for (let s = 0; s < steps; s++) {
    const target = tf.tensor1d(Array.from({ length: v.size }, () => rng.normal()));
    const { grads } = tf.variableGrads(() => v.sub(target).square().sum() as tf.Scalar, [v]);
    apply(o, grads);
    tf.dispose([target, ...Object.values(grads)]);
  }
}

function bits(t: tf.Tensor): number[] {
  return Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
}

/** Trains `before` steps, saves through the checkpoint files, restores into a fresh optimizer, trains `after` more. */
async function interrupted(
  make: () => tf.Optimizer,
  apply: Apply,
  before: number,
  after: number,
  keepExtras: boolean,
): Promise<{ weights: number[]; optimizer: tf.Optimizer }> {
  const rng = new Rng(7);
  const init = Array.from({ length: 64 }, (_, i) => Math.sin(i));
  const v1 = tf.variable(tf.tensor1d(init), true, `w-before-${Math.random()}`);
  const o1 = make();
  trainSteps(v1, o1, apply, before, rng);
  const dir = mkdtempSync(join(tmpdir(), 'mtl-opt-'));
  const { json, bin } = await encodeOptimizers([{ group: 'all', optimizer: o1 }]);
  writeFileSync(join(dir, 'optimizer.json'), json);
  writeFileSync(join(dir, 'optimizer.bin'), bin);
  const extras: OptimizerExtras[] = keepExtras ? optimizerExtras([{ group: 'all', optimizer: o1 }]) : [];
  // The restored process: same variable values (from weights.bin in a real resume), fresh optimizer.
  const v2 = tf.variable(v1.clone(), true, `w-after-${Math.random()}`);
  const o2 = make();
  await restoreOptimizers([{ group: 'all', optimizer: o2 }], decodeOptimizers(dir), extras);
  trainSteps(v2, o2, apply, after, rng);
  const weights = bits(v2);
  v1.dispose();
  v2.dispose();
  o1.dispose();
  return { weights, optimizer: o2 };
}

async function uninterrupted(make: () => tf.Optimizer, apply: Apply, steps: number): Promise<number[]> {
  const rng = new Rng(7);
  const init = Array.from({ length: 64 }, (_, i) => Math.sin(i));
  const v = tf.variable(tf.tensor1d(init), true, `w-whole-${Math.random()}`);
  const o = make();
  trainSteps(v, o, apply, steps, rng);
  const out = bits(v);
  v.dispose();
  o.dispose();
  return out;
}

const adam = () => tf.train.adam(0.01, 0.9, 0.999, 1e-7);

for (const [name, apply] of [
  ['tfjs applyGradients', viaTfjs],
  ['the fused Adam kernel', viaFused],
] as const) {
  test(`Adam (${name}): restored from the checkpoint files + resume.json, it continues bit for bit`, async () => {
    const whole = await uninterrupted(adam, apply, 40);
    const { weights, optimizer } = await interrupted(adam, apply, 13, 27, true);
    assert.deepEqual(weights, whole);
    optimizer.dispose();
  });
}

test("Adam: without the β-power bits (tfjs's setWeights alone) the continuation differs", async () => {
  const whole = await uninterrupted(adam, viaTfjs, 40);
  const { weights, optimizer } = await interrupted(adam, viaTfjs, 13, 27, false);
  // setWeights sets accBeta = pow(β, t + 1); the running float32 product differs in its last bits.
  assert.notDeepEqual(weights, whole, 'the β-power bits are what makes the restore exact');
  const o = optimizer as unknown as { accBeta1: tf.Variable; beta1: number; iterations: number };
  assert.equal(o.iterations, 40);
  optimizer.dispose();
});

for (const [name, make] of [
  ['SGD with momentum', () => tf.train.momentum(0.01, 0.9)],
  ['RMSprop', () => tf.train.rmsprop(0.01, 0.9, 0.5, 1e-7)],
  ['plain SGD', () => tf.train.sgd(0.01)],
] as const) {
  test(`${name}: restored from the checkpoint files, it continues bit for bit`, async () => {
    const whole = await uninterrupted(make, viaTfjs, 30);
    const { weights, optimizer } = await interrupted(make, viaTfjs, 11, 19, true);
    assert.deepEqual(weights, whole);
    optimizer.dispose();
  });
}

test('optimizer files name tensors after the layer weights, not the process-unique variable names', async () => {
  const v = tf.variable(tf.zeros([3]), true, 'dense_1/kernel_7');
  const loose = tf.variable(tf.zeros([2]), true);
  const o = adam();
  o.applyGradients({ [v.name]: tf.ones([3]), [loose.name]: tf.ones([2]) } as never);
  const { json } = await encodeOptimizers([{ group: 'all', optimizer: o }], new Map([[v.name, 'dense_1/kernel']]));
  const names = JSON.parse(json).groups[0].weightSpecs.map((s: { name: string }) => s.name);
  assert.deepEqual(names.sort(), ['dense_1/kernel/m', 'dense_1/kernel/v', 'iter', 'variable_0/m', 'variable_0/v']);
  tf.dispose([v, loose]);
  o.dispose();
});
