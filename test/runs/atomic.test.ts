// Atomic writes replace content and leave no temp files; JSONL appends one line per record.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendJsonl, writeFileAtomic, writeJsonAtomic } from '../../src/runs/atomic.ts';
import { withTempDir } from './helpers.ts';

test('writeFileAtomic replaces content and leaves no temp files', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'summary.json');
    await writeFileAtomic(path, 'old');
    await writeFileAtomic(path, new Uint8Array([110, 101, 119])); // "new"
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['summary.json']);
  }));

test('concurrent atomic writes end with one complete version and no temp files', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'run.json');
    const bodies = Array.from({ length: 20 }, (_, i) => `${String(i).repeat(10_000)}`);
    await Promise.all(bodies.map((b) => writeFileAtomic(path, b)));
    assert.ok(bodies.includes(await readFile(path, 'utf8')));
    assert.deepEqual(await readdir(dir), ['run.json']);
  }));

test('writeFileAtomic fails cleanly when the folder does not exist', () =>
  withTempDir(async (dir) => {
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x.json'), 'x'), { code: 'ENOENT' });
    assert.deepEqual(await readdir(dir), []);
  }));

test('writeJsonAtomic writes 2-space JSON with a trailing newline', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'a.json');
    await writeJsonAtomic(path, { a: 1, b: [true] });
    assert.equal(await readFile(path, 'utf8'), '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}\n');
  }));

test('appendJsonl appends one parseable line per value', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'metrics.jsonl');
    await Promise.all(Array.from({ length: 50 }, (_, epoch) => appendJsonl(path, { epoch, loss: 0.5 })));
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.equal(lines.pop(), '');
    const epochs = lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch).sort((a, b) => a - b);
    assert.deepEqual(
      epochs,
      Array.from({ length: 50 }, (_, i) => i),
    );
  }));
