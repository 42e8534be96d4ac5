// The decoded-dataset cache under damage and contention: a flipped byte in the cached pixels is
// caught by its checksum and the cache rebuilt; two processes building the same cache at once both
// get the data and leave one valid file (each writes a temp file and renames it into place).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRawDataset } from '../../src/data/registry.ts';
import { ROOT, tempDir } from '../e2e/helpers.ts';

const cacheDir = tempDir('mtl-rel-cache-');
after(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Loads mnist through the cache in a child process; resolves with its train-label checksum. */
function loadInChild(): Promise<string> {
  const code = `import { loadRawDataset } from './src/data/registry.ts';
    const ds = await loadRawDataset('mnist', { cacheDir: process.env.CACHE });
    let sum = 0; for (const y of ds.train.y) sum = (sum * 31 + y) >>> 0;
    process.stdout.write(ds.train.n + ':' + sum);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, CACHE: cacheDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('close', (c) => (c === 0 ? resolve(out) : reject(new Error(`child exited ${c}`))));
  });
}

test('two processes building the same cache at once both get the data; one valid file is left', async () => {
  const [a, b] = await Promise.all([loadInChild(), loadInChild()]);
  assert.equal(a, b);
  assert.match(a, /^60000:\d+$/);
  assert.deepEqual(readdirSync(cacheDir), ['mnist.bin'], 'no temp file left behind');
  const again = await loadRawDataset('mnist', { cacheDir });
  assert.equal(again.train.n, 60000);
});

test('a flipped byte in the cached pixels is detected by its checksum and the cache is rebuilt', async () => {
  const file = join(cacheDir, 'mnist.bin');
  const good = await loadRawDataset('mnist', { cacheDir });
  const bytes = readFileSync(file);
  const at = bytes.length - 5000; // inside test.x, far past the header
  const original = bytes[at]!;
  bytes[at] = original ^ 0xff;
  writeFileSync(file, bytes);
  const before = statSync(file).mtimeMs;
  const rebuilt = await loadRawDataset('mnist', { cacheDir });
  assert.deepEqual(Buffer.from(rebuilt.test.x), Buffer.from(good.test.x), 'the data is right, not the damaged copy');
  assert.equal(readFileSync(file)[at], original, 'the cache file was rewritten');
  assert.ok(statSync(file).mtimeMs >= before);
});
