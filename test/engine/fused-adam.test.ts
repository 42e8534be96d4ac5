// The fused Adam kernel against tfjs's own AdamOptimizer on the wasm backend: the same bits for the
// weights and moments, the same iteration count and β-powers, so checkpoints cannot tell them apart.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { applyFusedAdam } from '../../src/engine/fused/adam.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { Rng } from '../../src/random/rng.ts';

before(async () => {
  await initBackend('wasm');
});

const rng = new Rng(3);
const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

function makeVariables(prefix: string, init: Float32Array[], shapes: number[][]): tf.Variable[] {
  return init.map((v, i) => {
    const t = tf.tensor(v, shapes[i]);
    const variable = tf.variable(t, true, `${prefix}_${i}`);
    t.dispose();
    return variable;
  });
}

test('fused Adam gives the same bits as tf.train.adam over several steps, LR changes included', async () => {
  const shapes = [[37, 5], [5], [3]];
  const init = shapes.map((s) => values(s.reduce((a, b) => a * b, 1)));
  const stock = makeVariables('stock', init, shapes);
  const fused = makeVariables('fused', init, shapes);
  const [optA, optB] = [tf.train.adam(1e-2, 0.9, 0.999, 1e-7), tf.train.adam(1e-2, 0.9, 0.999, 1e-7)];
  const adamCalls = kernelCalls.get('MtlAdam') ?? 0;
  for (let step = 0; step < 5; step++) {
    const grads = shapes.map((s) => values(s.reduce((a, b) => a * b, 1)));
    if (step === 3) {
      (optA as unknown as { learningRate: number }).learningRate = 3e-3;
      (optB as unknown as { learningRate: number }).learningRate = 3e-3;
    }
    const gA: tf.NamedTensorMap = {};
    const gB: tf.NamedTensorMap = {};
    grads.forEach((g, i) => {
      gA[stock[i]!.name] = tf.tensor(g, shapes[i]);
      gB[fused[i]!.name] = tf.tensor(g, shapes[i]);
    });
    (optA as tf.Optimizer).applyGradients(gA);
    assert.equal(applyFusedAdam(optB, gB), true);
    tf.dispose([...Object.values(gA), ...Object.values(gB)]);
  }
  stock.forEach((v, i) => {
    assert.deepEqual(fused[i]!.dataSync(), v.dataSync(), `variable ${i}`);
  });
  const [wA, wB] = [await optA.getWeights(), await optB.getWeights()];
  assert.equal(wB.length, wA.length);
  wA.forEach((w, i) => {
    assert.deepEqual(wB[i]!.tensor.dataSync(), w.tensor.dataSync(), `optimizer weight ${i}`);
  });
  assert.equal(optB.iterations, 5);
  assert.equal((kernelCalls.get('MtlAdam') ?? 0) - adamCalls, 5 * 3, 'one MtlAdam call per variable per step');
  tf.dispose([...stock, ...fused]);
  optA.dispose();
  optB.dispose();
});

test('not Adam, or not on wasm: nothing is done and the caller applies the gradients', async () => {
  const v = tf.variable(tf.zeros([2]), true, 'sgd_var');
  const g = { sgd_var: tf.ones([2]) };
  const adamCalls = kernelCalls.get('MtlAdam') ?? 0;
  assert.equal(applyFusedAdam(tf.train.sgd(0.1), g), false);
  assert.equal(kernelCalls.get('MtlAdam') ?? 0, adamCalls, 'the fused kernel did not run');
  assert.deepEqual([...v.dataSync()], [0, 0]);
  tf.dispose([v, g.sgd_var]);
});
