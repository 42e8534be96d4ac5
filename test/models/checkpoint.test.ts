// Checkpoint round trip: save → load gives identical predictions; folders are replaced atomically;
// incomplete or corrupt checkpoints are clear input errors.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { InputError } from '../../src/errors.ts';
import { buildModel } from '../../src/models/build.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import { Rng } from '../../src/random/rng.ts';

before(async () => {
  await initBackend('wasm');
});

const preprocess = { inputShape: [28, 28, 1], steps: [{ op: 'scale' as const, factor: 1 / 255 }] };

function cnn() {
  return buildModel(
    {
      type: 'cnn',
      dense: [8],
      activation: 'relu',
      dropout: 0,
      conv: [{ filters: 4, kernel: 3, stride: 1, padding: 'valid', activation: 'relu', batchNorm: true, pool: 2 }],
    },
    { imageShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) },
  );
}

test('save → load gives identical predictions, BatchNorm statistics included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-ckpt-'));
  const { model } = cnn();
  // Non-default moving statistics, so a loader that ignored them would predict differently.
  const bn = model.getLayer('bn_1');
  bn.setWeights(bn.getWeights().map((w, i) => tf.fill(w.shape, [1.5, 0.2, 0.3, 2.0][i]!)));
  const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 3);
  const expected = (model.predict(x) as tf.Tensor).dataSync();
  await saveCheckpoint(join(dir, 'best'), model, { preprocess, metadata: { epoch: 3 } });
  const loaded = await loadCheckpoint(join(dir, 'best'));
  assert.deepEqual((loaded.model.predict(x) as tf.Tensor).dataSync(), expected);
  assert.deepEqual(loaded.preprocess, preprocess);
  assert.equal(loaded.metadata.epoch, 3);
  assert.deepEqual(
    loaded.model.layers.map((l) => l.name),
    model.layers.map((l) => l.name),
  );
  rmSync(dir, { recursive: true });
});

test('saving again replaces the folder and leaves no temporary folders; optimizer state is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-ckpt-'));
  const { model } = cnn();
  const optimizer = tf.train.adam(0.01);
  optimizer.minimize(() => (model.predict(tf.ones([1, 28, 28, 1])) as tf.Tensor).sum() as tf.Scalar);
  await saveCheckpoint(join(dir, 'last'), model, { preprocess });
  await saveCheckpoint(join(dir, 'last'), model, { preprocess, optimizers: [{ group: 'all', optimizer }] });
  assert.deepEqual(readdirSync(dir), ['last']);
  assert.ok(existsSync(join(dir, 'last', 'optimizer.json')) && existsSync(join(dir, 'last', 'optimizer.bin')));
  rmSync(dir, { recursive: true });
});

test('an incomplete or corrupt checkpoint is an InputError naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-ckpt-'));
  await assert.rejects(
    loadCheckpoint(dir),
    (e: Error) => e instanceof InputError && /model\.json is missing/.test(e.message),
  );
  writeFileSync(join(dir, 'model.json'), '{not json');
  writeFileSync(join(dir, 'weights.bin'), '');
  writeFileSync(join(dir, 'preprocess.json'), '{}');
  await assert.rejects(loadCheckpoint(dir), (e: Error) => e instanceof InputError && /unreadable JSON/.test(e.message));
  rmSync(dir, { recursive: true });
});
