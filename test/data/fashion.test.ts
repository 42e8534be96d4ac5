import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { FASHION_CLASS_NAMES, loadFashion } from '../../src/data/fashion.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { loadRawDataset } from '../../src/data/registry.ts';
import { labelCounts } from '../../src/data/splits.ts';
import { sameBytes, tempDir } from './helpers.ts';

const cacheDir = tempDir('fashion-cache');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

test('fashion: 60,000 / 10,000, exactly 6,000 / 1,000 per class, invalid records skipped', async (t) => {
  let start = performance.now();
  const ds = await loadRawDataset('fashion', { cacheDir });
  const firstMs = performance.now() - start;
  start = performance.now();
  const again = await loadRawDataset('fashion', { cacheDir });
  const secondMs = performance.now() - start;
  t.diagnostic(`fashion load: first ${firstMs.toFixed(0)} ms, second ${secondMs.toFixed(0)} ms`);
  assert.equal(ds.train.n, 60_000);
  assert.equal(ds.test.n, 10_000);
  assert.equal(ds.train.x.length, 60_000 * 784);
  assert.deepEqual(ds.inputShape, [28, 28, 1]);
  assert.deepEqual(ds.classNames, FASHION_CLASS_NAMES);
  assert.equal(ds.classNames[9], 'Ankle boot');
  assert.deepEqual(labelCounts(ds.train.y, 10), new Array(10).fill(6_000));
  assert.deepEqual(labelCounts(ds.test.y, 10), new Array(10).fill(1_000));
  assert.equal(ds.source?.skippedRecords, 2, 'the two empty records of class 0');
  assert.ok(secondMs < 1000, `cached load took ${secondMs} ms`);
  assert.ok(sameBytes(ds.train.x, again.train.x) && sameBytes(ds.test.y, again.test.y));
  // Classes are interleaved, not grouped as in the package's files.
  assert.ok(new Set(ds.train.y.subarray(0, 50)).size > 5);
});

test('the fashion split is rebuilt identically and never depends on the run seed', async () => {
  const cached = await loadRawDataset('fashion', { cacheDir });
  const fresh = loadFashion({ cache: false });
  for (const part of ['train', 'test'] as const) {
    assert.ok(sameBytes(cached[part].x, fresh[part].x), `${part}.x`);
    assert.ok(sameBytes(cached[part].y, fresh[part].y), `${part}.y`);
  }
  const cfg = { ...defaultConfig().data, dataset: 'fashion', normalize: 'scale01', limit: 200 } as const;
  const a = await prepareData(cfg, 1, { inputShape: [784], cacheDir });
  const b = await prepareData(cfg, 2, { inputShape: [784], cacheDir });
  assert.deepEqual(a.test.y, b.test.y);
  assert.ok(sameBytes(new Uint8Array(a.test.x.buffer), new Uint8Array(b.test.x.buffer)));
  assert.notDeepEqual(a.train.y, b.train.y, 'the run seed still drives validation and --limit');
});
