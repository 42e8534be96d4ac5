// run.json round trips, patches, clear errors, and a config hash independent of key order.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { hashConfig, readRunRecord, updateRunRecord, writeRunRecord } from '../../src/runs/run-record.ts';
import { sampleRecord, withTempDir } from './helpers.ts';

test('run records round-trip and patch', () =>
  withTempDir(async (dir) => {
    await writeRunRecord(dir, sampleRecord());
    assert.deepEqual(await readRunRecord(dir), sampleRecord());
    const done = await updateRunRecord(dir, { status: 'completed', endedAt: '2024-01-01T00:01:00.000Z' });
    assert.equal(done.status, 'completed');
    assert.deepEqual(await readRunRecord(dir), done);
    assert.equal(done.seed, 42);
  }));

test('readRunRecord names the file when it is missing, unparseable or not a record', () =>
  withTempDir(async (dir) => {
    const path = join(dir, 'run.json');
    await assert.rejects(readRunRecord(dir), (e: Error) => e instanceof InputError && e.message.includes(path));
    await writeFile(path, '{ not json');
    await assert.rejects(readRunRecord(dir), (e: Error) => e instanceof InputError && e.message.includes(path));
    await writeFile(path, '[1, 2]');
    await assert.rejects(readRunRecord(dir), /is not a run record/);
  }));

test('hashConfig is 16 hex chars, stable under key order at every depth', () => {
  const a = { model: { hidden: [128, 64], type: 'mlp' }, seed: 1, trainer: { lr: 0.001, epochs: 3 } };
  const b = { trainer: { epochs: 3, lr: 0.001 }, seed: 1, model: { type: 'mlp', hidden: [128, 64] } };
  assert.match(hashConfig(a), /^[0-9a-f]{16}$/);
  assert.equal(hashConfig(a), hashConfig(b));
  assert.notEqual(hashConfig(a), hashConfig({ ...a, model: { hidden: [64, 128], type: 'mlp' } }));
  assert.notEqual(hashConfig(a), hashConfig({ ...a, seed: 2 }));
});
