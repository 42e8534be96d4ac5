// Preprocessing straight into the tensor's memory (wasm) gives the bits of preprocessing on the host
// and then copying, for bytes and for float tables with missing values, and the direct path ran.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPreprocess, type Preprocess } from '../../src/data/normalize.ts';
import { lazySplit } from '../../src/data/prepare.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { DIRECT_UPLOAD, toDevice } from '../../src/train/device-data.ts';

const standardize: Preprocess = {
  inputShape: [3],
  steps: [
    { op: 'scale', factor: 1 / 255 },
    { op: 'standardize', mean: [0.1, 0.5, 0], std: [0.3, 0.2, 1] },
  ],
};

test('a lazy split goes to the wasm device preprocessed in place, bit for bit', async () => {
  await initBackend('wasm');
  const bytes = Uint8Array.from({ length: 12 }, (_, i) => (i * 37) % 256);
  const split = lazySplit({ x: bytes, y: Uint8Array.from([0, 1, 2, 1]), n: 4 }, standardize);
  const before = kernelCalls.get(DIRECT_UPLOAD) ?? 0;
  const device = toDevice(split, [3]);
  assert.equal(kernelCalls.get(DIRECT_UPLOAD), before + 1, 'the direct upload ran');
  assert.ok(split.unprocessed, 'the host floats were never made');
  const expected = applyPreprocess(standardize, bytes, 4);
  assert.deepEqual(device.x.dataSync(), expected);
  assert.deepEqual(split.x, expected);
  assert.equal(split.unprocessed, undefined, 'once made on the host, the host floats are used');
  tf.dispose([device.x, device.y]);
});

test('float features with missing values: the fill and the float32 rounding are kept', async () => {
  await initBackend('wasm');
  const x = Float64Array.from([0.1, Number.NaN, 2.5, 1 / 3, 7, Number.NaN]);
  const p: Preprocess = {
    inputShape: [3],
    steps: [
      { op: 'fillMissing', values: [0, 9, 1] },
      { op: 'standardize', mean: [0, 1, 2], std: [1, 2, 3] },
    ],
  };
  const device = toDevice(lazySplit({ x, y: Uint8Array.from([0, 1]), n: 2 }, p), [3]);
  const expected = applyPreprocess(p, x, 2);
  assert.deepEqual(device.x.dataSync(), expected);
  assert.ok(expected.every(Number.isFinite));
  tf.dispose([device.x, device.y]);
});
