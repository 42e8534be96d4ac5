import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import type { DataConfig } from '../../src/config/types.ts';
import { featureStats } from '../../src/data/normalize.ts';
import { limitedValSize, prepareData } from '../../src/data/prepare.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir } from './helpers.ts';

const cacheDir = tempDir('prepare-cache');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
const base: DataConfig = {
  ...defaultConfig().data,
  dataset: 'mnist',
  normalize: 'standardize',
  validation: 0.1,
  limit: null,
};

test('full mnist: 54,000 / 6,000 / 10,000, float32 features, int32 labels', async () => {
  const d = await prepareData(base, 42, { inputShape: [784], cacheDir });
  assert.deepEqual(d.counts, { train: 54_000, val: 6_000, test: 10_000, trainPool: 54_000 });
  assert.ok(d.train.x instanceof Float32Array && d.train.y instanceof Int32Array);
  assert.equal(d.train.x.length, 54_000 * 784);
  assert.deepEqual(d.dataset, {
    spec: 'mnist',
    name: 'MNIST',
    numClasses: 10,
    classNames: [...'0123456789'],
    inputShape: [28, 28, 1],
  });
  assert.deepEqual(d.preprocess.inputShape, [784]);
  assert.equal(d.test.y[0], 7, 'test keeps its order: only the preprocess is applied');
});

test('--limit samples training examples and shrinks validation in proportion', async () => {
  const cfg = { ...base, limit: 1000 };
  const d = await prepareData(cfg, 7, { inputShape: [28, 28, 1], cacheDir });
  assert.deepEqual(d.counts, { train: 1000, val: 111, test: 10_000, trainPool: 54_000 });
  assert.deepEqual(d.preprocess.inputShape, [28, 28, 1]);
  // Normalization is fitted on the final (limited) training split only.
  const { mean, std } = featureStats(d.train.x, d.train.n, 784);
  const step = d.preprocess.steps[1]!;
  assert.equal(step.op, 'standardize');
  for (let j = 0; j < 784; j++) {
    assert.ok(Math.abs(mean[j]!) < 1e-4, `feature ${j} mean ${mean[j]}`);
    if (step.op === 'standardize' && step.std[j] !== 1) assert.ok(Math.abs(std[j]! - 1) < 1e-4);
  }
  const same = await prepareData(cfg, 7, { inputShape: [28, 28, 1], cacheDir });
  assert.deepEqual(same.train.y, d.train.y);
  assert.deepEqual(same.val.x, d.val.x);
  const other = await prepareData(cfg, 8, { inputShape: [28, 28, 1], cacheDir });
  assert.notDeepEqual(other.train.y, d.train.y);
  assert.notDeepEqual(other.seeds, d.seeds);
});

test('validation 0, limits beyond the pool, and bad limits', async () => {
  const none = await prepareData({ ...base, normalize: 'none', validation: 0, limit: 100 }, 1, {
    inputShape: [784],
    cacheDir,
  });
  assert.equal(none.counts.val, 0);
  assert.equal(none.val.x.length, 0);
  assert.equal(Math.max(...none.train.x), 255, 'none keeps raw 0-255 values');
  const all = await prepareData({ ...base, normalize: 'scale01', limit: 100_000 }, 1, { inputShape: [784], cacheDir });
  assert.equal(all.counts.train, 54_000);
  assert.equal(all.counts.val, 6_000);
  await assert.rejects(prepareData({ ...base, limit: 0 }, 1, { inputShape: [784], cacheDir }), ConfigError);
  await assert.rejects(
    prepareData({ ...base, limit: 1.5 }, 1, { inputShape: [784], cacheDir }),
    /data.limit: must be a positive integer/,
  );
  assert.equal(limitedValSize(10, 0.01), 1);
  assert.equal(limitedValSize(10, 0), 0);
  assert.equal(limitedValSize(900, 0.1), 100);
});
