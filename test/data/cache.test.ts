import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { type CacheKey, cacheReads, readCache, resolveCacheDir, writeCache } from '../../src/data/cache.ts';
import { loadMnist } from '../../src/data/mnist.ts';
import { loadRawDataset } from '../../src/data/registry.ts';
import type { RawDataset } from '../../src/data/types.ts';
import { sameBytes, tempDir } from './helpers.ts';

const cacheDir = tempDir('cache');
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

function assertSameData(a: RawDataset, b: RawDataset): void {
  for (const part of ['train', 'test'] as const) {
    assert.equal(a[part].n, b[part].n);
    assert.ok(sameBytes(a[part].x, b[part].x), `${part}.x differs`);
    assert.ok(sameBytes(a[part].y, b[part].y), `${part}.y differs`);
  }
  assert.deepEqual({ ...a, train: 0, test: 0 }, { ...b, train: 0, test: 0 });
}

test('second mnist load comes from the cache: < 1 s, byte-identical, views of one buffer', async (t) => {
  let start = performance.now();
  const first = await loadRawDataset('mnist', { cacheDir });
  const firstMs = performance.now() - start;
  start = performance.now();
  const second = await loadRawDataset('mnist', { cacheDir });
  const secondMs = performance.now() - start;
  t.diagnostic(`mnist load: first ${firstMs.toFixed(0)} ms, second ${secondMs.toFixed(0)} ms`);
  assert.ok(secondMs < 1000, `second load took ${secondMs} ms`);
  assertSameData(first, second);
  assertSameData(second, { ...loadMnist({ cache: false }), spec: 'mnist' });
  assert.equal(second.train.x.buffer, second.test.y.buffer, 'one read, no copies');
  assert.deepEqual(fs.readdirSync(cacheDir), ['mnist.bin'], 'no temp files left behind');
});

test('a corrupt or truncated cache is rebuilt silently', async () => {
  const file = path.join(cacheDir, 'mnist.bin');
  const good = await loadRawDataset('mnist', { cacheDir });
  const size = fs.statSync(file).size;
  for (const damage of [
    () => fs.writeFileSync(file, 'not a cache'),
    () => fs.truncateSync(file, size - 100),
    () => fs.writeFileSync(file, Buffer.concat([fs.readFileSync(file).subarray(0, 12), Buffer.alloc(64, 0x7b)])),
  ]) {
    await loadRawDataset('mnist', { cacheDir }); // make sure a good cache is in place
    damage();
    const rebuilt = await loadRawDataset('mnist', { cacheDir });
    assertSameData(good, rebuilt);
    assert.equal(fs.statSync(file).size, size, 'the cache file was rewritten whole');
  }
});

/** A two-image dataset and the cache key it was built under. */
function toy(): { key: CacheKey; ds: RawDataset } {
  return {
    key: { dataset: 'toy', origin: 'toy@1', files: [{ name: 'a', size: 1, mtimeMs: 2 }] },
    ds: {
      spec: 'toy',
      name: 'Toy',
      inputShape: [1, 2, 1],
      numClasses: 2,
      classNames: ['a', 'b'],
      train: { x: Uint8Array.from([1, 2, 3, 4]), y: Uint8Array.from([0, 1]), n: 2 },
      test: { x: Uint8Array.from([5, 6]), y: Uint8Array.from([1]), n: 1 },
    },
  };
}

test('a cache built from other sources is a miss', () => {
  const dir = tempDir('cache-key');
  try {
    const file = path.join(dir, 'toy.bin');
    const { key, ds } = toy();
    assert.ok(writeCache(file, key, ds));
    const back = readCache(file, key);
    assert.ok(back);
    assertSameData(ds, back);
    assert.equal(readCache(file, { ...key, origin: 'toy@2' }), null);
    assert.equal(readCache(file, { ...key, files: [{ name: 'a', size: 2, mtimeMs: 2 }] }), null);
    assert.equal(readCache(path.join(dir, 'missing.bin'), key), null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an unchanged cache file read again comes from memory; a rewritten or touched one from disk', () => {
  const dir = tempDir('cache-memory');
  try {
    const file = path.join(dir, 'toy.bin');
    const { key, ds } = toy();
    assert.ok(writeCache(file, key, ds));
    const reads = (): [number, number] => [cacheReads.fromDisk, cacheReads.fromMemory];
    const [disk, memory] = reads();
    const first = readCache(file, key)!;
    const second = readCache(file, key)!;
    assert.deepEqual(reads(), [disk + 1, memory + 1], 'the second read came from memory');
    assertSameData(ds, second);
    assert.equal(second.train.x, first.train.x, 'the same arrays, not a copy');
    assert.notEqual(second.train, first.train, 'in objects of their own');
    assert.equal(readCache(file, { ...key, origin: 'toy@2' }), null, 'another key is still a miss');
    readCache(file, key);
    const [disk2, memory2] = reads();
    // Rewritten with other labels (a rebuilt cache): read from disk, with the new content.
    assert.ok(writeCache(file, key, { ...ds, train: { ...ds.train, y: Uint8Array.from([1, 0]) } }));
    assert.deepEqual([...readCache(file, key)!.train.y], [1, 0]);
    assert.deepEqual(reads(), [disk2 + 1, memory2]);
    // Only its times changed: read again (and checked) all the same.
    fs.utimesSync(file, new Date(2000, 1, 1), new Date(2000, 1, 1));
    assert.ok(readCache(file, key));
    assert.deepEqual(reads(), [disk2 + 2, memory2]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cache dir: option, then MTL_DATA_DIR, then <project>/datasets/cache', () => {
  const saved = process.env.MTL_DATA_DIR;
  try {
    delete process.env.MTL_DATA_DIR;
    assert.equal(resolveCacheDir(), path.resolve(import.meta.dirname, '../../datasets/cache'));
    process.env.MTL_DATA_DIR = '/tmp/elsewhere';
    assert.equal(resolveCacheDir(), '/tmp/elsewhere');
    assert.equal(resolveCacheDir('/tmp/opt'), '/tmp/opt');
  } finally {
    if (saved === undefined) delete process.env.MTL_DATA_DIR;
    else process.env.MTL_DATA_DIR = saved;
  }
});
