import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { listDatasets, loadRawDataset } from '../../src/data/registry.ts';
import { labelCounts } from '../../src/data/splits.ts';
import { InputError } from '../../src/errors.ts';
import { tempDir, writeTinyIdxDir } from './helpers.ts';

const cacheDir = tempDir('registry-cache');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('unknown or malformed specs are InputErrors that list the valid forms', async () => {
  await assert.rejects(
    loadRawDataset('cifar10', { cacheDir }),
    (err: unknown) =>
      err instanceof InputError && /unknown dataset 'cifar10': expected mnist, fashion, idx:<dir>/.test(err.message),
  );
  await assert.rejects(loadRawDataset('idx:', { cacheDir }), /'idx:' needs a dir/);
  await assert.rejects(loadRawDataset('mnist:9-3', { cacheDir }), /range '9-3' must ascend/);
  await assert.rejects(loadRawDataset('idx:/nowhere:0-999999', { cacheDir }), /out of range \(labels are 0-255\)/);
});

test('mnist: official sizes and known first labels', async () => {
  const ds = await loadRawDataset('mnist', { cacheDir });
  assert.equal(ds.spec, 'mnist');
  assert.equal(ds.train.n, 60_000);
  assert.equal(ds.test.n, 10_000);
  assert.equal(ds.train.x.length, 60_000 * 784);
  assert.deepEqual(ds.inputShape, [28, 28, 1]);
  assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  // LeCun's files start with a 5 (train) and a 7 (test).
  assert.equal(ds.train.y[0], 5);
  assert.equal(ds.test.y[0], 7);
  assert.deepEqual(labelCounts(ds.test.y, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test('class subset mnist:5-9 keeps those classes, remapped to 0..4 with matching counts', async () => {
  const full = await loadRawDataset('mnist', { cacheDir });
  const sub = await loadRawDataset('mnist:5-9', { cacheDir });
  assert.equal(sub.spec, 'mnist:5-9');
  assert.equal(sub.numClasses, 5);
  assert.deepEqual(sub.classNames, ['5', '6', '7', '8', '9']);
  for (const part of ['train', 'test'] as const) {
    const want = labelCounts(full[part].y, 10).slice(5);
    assert.deepEqual(labelCounts(sub[part].y, 5), want);
    assert.equal(
      sub[part].n,
      want.reduce((a, b) => a + b, 0),
    );
  }
  // The first kept test example (MNIST's first test image, a 7) becomes label 2, same pixels.
  const i = full.test.y.findIndex((c) => c >= 5);
  assert.equal(i, 0);
  assert.equal(sub.test.y[0], full.test.y[i]! - 5);
  assert.deepEqual(sub.test.x.subarray(0, 784), full.test.x.subarray(i * 784, (i + 1) * 784));
  await assert.rejects(loadRawDataset('mnist:8-12', { cacheDir }), /class 12 out of range \(classes are 0-9\)/);
  await assert.rejects(loadRawDataset('mnist:3', { cacheDir }), /at least two classes/);
});

test('mixed subsets of an idx dataset remap in ascending order of the original class', async () => {
  const dir = tempDir('registry-idx');
  try {
    writeTinyIdxDir(dir, { n: 20, m: 10, rows: 2, cols: 2, classes: 5 });
    const sub = await loadRawDataset(`idx:${dir}:4,0-1`);
    assert.deepEqual(sub.classNames, ['0', '1', '4']);
    assert.deepEqual(Array.from(sub.test.y), [0, 1, 2, 0, 1, 2]); // original 0,1,4,0,1,4
    assert.equal(sub.train.n, 12);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('listDatasets reports the built-in packages as installed', () => {
  const list = listDatasets();
  assert.deepEqual(
    list.map((d) => d.name),
    ['mnist', 'fashion', 'idx:<dir>', 'images:<dir>', 'csv:<file>'],
  );
  assert.ok(list.every((d) => d.installed));
  assert.equal(list[0]!.version, '1.2.6');
});
