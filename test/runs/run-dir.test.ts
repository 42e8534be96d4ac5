// Run ids and run-folder creation, including many runs racing for the same name and second.

import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MtlError } from '../../src/errors.ts';
import { createRunDir } from '../../src/runs/run-dir.ts';
import { formatStampMs, makeRunId, sanitizeName } from '../../src/runs/run-id.ts';
import { withTempDir } from './helpers.ts';

const CLOCK = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 45));

test('makeRunId formats name, UTC timestamp and a 4-char [a-z0-9] suffix', () => {
  assert.equal(makeRunId('mnist', CLOCK, 'ab12'), 'mnist-20240305-070809-ab12');
  assert.match(makeRunId('mnist', CLOCK), /^mnist-20240305-070809-[a-z0-9]{4}$/);
  assert.equal(formatStampMs(CLOCK), '20240305-070809-045');
});

test('sanitizeName keeps safe characters, trims and falls back to run', () => {
  assert.equal(sanitizeName('mnist mlp/v2'), 'mnist-mlp-v2');
  assert.equal(sanitizeName('a.b_c-D9'), 'a.b_c-D9');
  assert.equal(sanitizeName('x'.repeat(100)).length, 64);
  assert.equal(sanitizeName(''), 'run');
  assert.equal(sanitizeName('..'), 'run');
  assert.equal(sanitizeName('.hidden'), 'hidden');
});

test('createRunDir makes the folder with checkpoints/ and eval/', () =>
  withTempDir(async (tmp) => {
    const runsDir = join(tmp, 'nested', 'runs');
    const { id, dir } = await createRunDir(runsDir, 'mnist', { date: CLOCK });
    assert.equal(dir, join(runsDir, id));
    assert.deepEqual((await readdir(dir)).sort(), ['checkpoints', 'eval']);
  }));

test('50 concurrent createRunDir calls with the same name and clock get 50 folders', () =>
  withTempDir(async (runsDir) => {
    const runs = await Promise.all(Array.from({ length: 50 }, () => createRunDir(runsDir, 'same', { date: CLOCK })));
    assert.equal(new Set(runs.map((r) => r.id)).size, 50);
    assert.equal((await readdir(runsDir)).length, 50);
  }));

test('a colliding suffix is retried, and repeated collisions give up after 20 tries', () =>
  withTempDir(async (runsDir) => {
    const first = await createRunDir(runsDir, 'x', { date: CLOCK, suffix: () => 'aaaa' });
    const seq = ['aaaa', 'aaaa', 'bbbb'];
    const second = await createRunDir(runsDir, 'x', { date: CLOCK, suffix: () => seq.shift()! });
    assert.equal(first.id, 'x-20240305-070809-aaaa');
    assert.equal(second.id, 'x-20240305-070809-bbbb');
    await assert.rejects(createRunDir(runsDir, 'x', { date: CLOCK, suffix: () => 'aaaa' }), MtlError);
  }));

test('createRunDir reports a runs dir that is a file as bad input', () =>
  withTempDir(async (tmp) => {
    const file = join(tmp, 'file');
    await writeFile(file, 'x');
    await assert.rejects(createRunDir(file, 'x'), /cannot create runs dir/);
    assert.ok((await stat(file)).isFile());
  }));
