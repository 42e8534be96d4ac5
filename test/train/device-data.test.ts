// Preprocessing straight into the tensor's memory (wasm) gives the bits of preprocessing on the host
// and then copying, for bytes and for float tables with missing values, and the direct path ran.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { applyPreprocess, type Preprocess } from '../../src/data/normalize.ts';
import { lazySplit } from '../../src/data/prepare.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { Rng } from '../../src/random/rng.ts';
import { DIRECT_UPLOAD, NATIVE_UPLOAD, toDevice } from '../../src/train/device-data.ts';

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
  const [before, native] = [kernelCalls.get(DIRECT_UPLOAD) ?? 0, kernelCalls.get(NATIVE_UPLOAD) ?? 0];
  const device = toDevice(split, [3]);
  assert.equal(kernelCalls.get(DIRECT_UPLOAD), before + 1, 'the direct upload ran');
  assert.equal(kernelCalls.get(NATIVE_UPLOAD), native + 1, 'natively (bytes)');
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

test('bytes through the native kernel: every byte value, shared and per-feature maps, odd widths, many chunks', async () => {
  await initBackend('wasm');
  const rng = new Rng(9);
  const r = (): number => rng.next();
  const cases: Array<[number, number, Preprocess]> = [];
  for (const f of [1, 3, 7, 784]) {
    const mean = Array.from({ length: f }, () => r());
    const std = Array.from({ length: f }, (_, j) => (j % 5 === 0 ? 1 : 0.01 + r()));
    cases.push([f, f === 784 ? 6000 : 700, { inputShape: [f], steps: [{ op: 'scale', factor: 1 / 255 }] }]);
    cases.push([
      f,
      333,
      {
        inputShape: [f],
        steps: [
          { op: 'scale', factor: 1 / 255 },
          { op: 'standardize', mean, std },
        ],
      },
    ]);
  }
  for (const [f, n, p] of cases) {
    const bytes = Uint8Array.from({ length: n * f }, (_, i) => (i * 131 + (i >> 8)) % 256); // every value
    const native = kernelCalls.get(NATIVE_UPLOAD) ?? 0;
    const device = toDevice(lazySplit({ x: bytes, y: new Uint8Array(n), n }, p), [f]);
    assert.equal(kernelCalls.get(NATIVE_UPLOAD), native + 1, `${f} features: the native path ran`);
    const [got, want] = [device.x.dataSync() as Float32Array, applyPreprocess(p, bytes, n)];
    for (let i = 0; i < want.length; i++)
      assert.ok(Object.is(got[i], want[i]), `${f} features [${i}]: ${got[i]} vs ${want[i]}`);
    tf.dispose([device.x, device.y]);
  }
});

test('a fresh process whose first native call is a big byte upload gets every value right', () => {
  // In-process the kernels' runtime already exists; only a fresh process makes it during the upload.
  const script = fileURLToPath(new URL('./device-data.child.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' }).trim();
  assert.deepEqual(JSON.parse(out), { differ: 0, native: 1 });
});
