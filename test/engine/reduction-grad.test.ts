// Mean's and Sum's gradients broadcast dy (÷ n) to the input's shape instead of multiplying by a
// ones-array tfjs-core fills in JavaScript: the same bits as the stock formula, on every axis set,
// and the new gradient is the one that ran.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';

before(async () => {
  await initBackend('wasm');
});

/** tfjs-core 4.22's own formula: reshape(dy) · ones(x.shape) (÷ n for Mean). */
function stockGrad(kind: 'Mean' | 'Sum', x: tf.Tensor, dy: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const times = dy.reshape(expanded).mul(tf.ones(x.shape));
  return kind === 'Mean' ? times.div(n) : times;
}

for (const kind of ['Mean', 'Sum'] as const) {
  test(`${kind} gradient: the stock formula's bits over every axis set, without a ones-array`, () => {
    const x = tf.randomNormal([5, 7, 3, 4], 0, 1, 'float32', 11);
    for (const axes of [[0], [0, 1, 2], [3], [1, 3], [0, 1, 2, 3]]) {
      const before = kernelCalls.get(`${kind}Grad`) ?? 0;
      const reduce = (v: tf.Tensor) => (kind === 'Mean' ? v.mean(axes) : v.sum(axes));
      const outShape = reduce(x).shape;
      const dy = tf.randomNormal(outShape, 0, 1, 'float32', 12);
      const [got] = tf.grads((v: tf.Tensor) => reduce(v))([x], dy);
      assert.equal(kernelCalls.get(`${kind}Grad`), before + 1, `mtl's ${kind} gradient ran (axes ${axes})`);
      assert.deepEqual(got!.dataSync(), stockGrad(kind, x, dy, axes).dataSync(), `axes ${axes}`);
    }
  });
}

test('moments of a BatchNorm-sized activation: gradient equals the stock one', () => {
  const x = tf.randomNormal([8, 6, 6, 32], 0, 1, 'float32', 3);
  const f = (v: tf.Tensor) => {
    const { mean, variance } = tf.moments(v, [0, 1, 2]);
    return mean.square().sum().add(variance.sum()) as tf.Scalar;
  };
  const got = tf.grad(f)(x);
  // d/dx (Σ mean² + Σ var) = 2·mean/n + 2·(x − mean)/n (population variance), per channel.
  const n = 8 * 6 * 6;
  const mean = x.mean([0, 1, 2]);
  const expected = mean.mul(2 / n).add(x.sub(mean).mul(2 / n));
  const diff = got.sub(expected).abs().max().dataSync()[0]!;
  assert.ok(diff < 1e-6, `max |diff| ${diff}`);
});
