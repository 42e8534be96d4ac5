// Resolving run references (path, id, prefix, latest) and listing runs past broken folders.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { listRuns, nextEvalPath, resolveRun } from '../../src/runs/resolve.ts';
import { writeRunRecord } from '../../src/runs/run-record.ts';
import { sampleRecord, withTempDir } from './helpers.ts';

/** Three runs; the middle id started last, so "latest" is not simply the largest id. */
async function makeRuns(runsDir: string): Promise<void> {
  const runs = [
    { id: 'mnist-20240101-000000-aaaa', startedAt: '2024-01-01T00:00:00.000Z' },
    { id: 'mnist-20240101-000000-abcd', startedAt: '2024-01-03T00:00:00.000Z' },
    { id: 'fashion-20240102-000000-zzzz', startedAt: '2024-01-02T00:00:00.000Z' },
  ];
  for (const r of runs) {
    await mkdir(join(runsDir, r.id), { recursive: true });
    await writeRunRecord(join(runsDir, r.id), sampleRecord(r));
  }
}

test('resolveRun finds an exact id, a unique prefix, a path and latest', () =>
  withTempDir(async (runsDir) => {
    await makeRuns(runsDir);
    assert.equal((await resolveRun(runsDir, 'mnist-20240101-000000-aaaa')).id, 'mnist-20240101-000000-aaaa');
    assert.equal((await resolveRun(runsDir, 'fash')).id, 'fashion-20240102-000000-zzzz');
    assert.equal((await resolveRun(runsDir, 'mnist-20240101-000000-ab')).record.startedAt, '2024-01-03T00:00:00.000Z');
    const byPath = await resolveRun('/nonexistent', join(runsDir, 'fashion-20240102-000000-zzzz'));
    assert.equal(byPath.dir, join(runsDir, 'fashion-20240102-000000-zzzz'));
    assert.equal((await resolveRun(runsDir, 'latest')).id, 'mnist-20240101-000000-abcd');
  }));

test('resolveRun explains ambiguous prefixes, unknown refs and a missing runs dir', () =>
  withTempDir(async (runsDir) => {
    await makeRuns(runsDir);
    await assert.rejects(
      resolveRun(runsDir, 'mnist'),
      (e: Error) =>
        e instanceof InputError &&
        e.message === "prefix 'mnist' is ambiguous: matches mnist-20240101-000000-aaaa, mnist-20240101-000000-abcd",
    );
    await assert.rejects(resolveRun(runsDir, 'mnsit'), /no run matches 'mnsit'.*nearest: mnist-/);
    await assert.rejects(resolveRun(join(runsDir, 'nope'), 'x'), /no runs dir at/);
    await assert.rejects(resolveRun(join(runsDir, 'nope'), 'latest'), InputError);
  }));

test('a folder without a valid run.json is an error when named, and skipped by listRuns', () =>
  withTempDir(async (runsDir) => {
    await makeRuns(runsDir);
    await mkdir(join(runsDir, 'broken-1'));
    await mkdir(join(runsDir, 'broken-2'));
    await writeFile(join(runsDir, 'broken-2', 'run.json'), '{');
    await writeFile(join(runsDir, 'notes.txt'), 'not a run');
    await assert.rejects(resolveRun(runsDir, 'broken-1'), /no run record at/);
    const ids = (await listRuns(runsDir)).map((r) => r.id);
    assert.deepEqual(ids, ['mnist-20240101-000000-abcd', 'fashion-20240102-000000-zzzz', 'mnist-20240101-000000-aaaa']);
    assert.deepEqual(await listRuns(join(runsDir, 'nope')), []);
  }));

test('latest breaks startedAt ties by the larger id', () =>
  withTempDir(async (runsDir) => {
    for (const id of ['b-1', 'c-1', 'a-1']) {
      await mkdir(join(runsDir, id));
      await writeRunRecord(join(runsDir, id), sampleRecord({ id }));
    }
    assert.equal((await resolveRun(runsDir, 'latest')).id, 'c-1');
  }));

test('with a kind, latest is the newest run of that kind and a prefix counts only runs of that kind', () =>
  withTempDir(async (runsDir) => {
    await makeRuns(runsDir);
    const sweep = {
      id: 'mnist-sweep-20240101-000000-swee',
      startedAt: '2024-01-02T12:00:00.000Z',
      kind: 'sweep' as const,
    };
    await mkdir(join(runsDir, sweep.id));
    await writeRunRecord(join(runsDir, sweep.id), sampleRecord(sweep));
    assert.equal((await resolveRun(runsDir, 'latest')).id, 'mnist-20240101-000000-abcd');
    assert.equal((await resolveRun(runsDir, 'latest', 'sweep')).id, sweep.id);
    assert.equal((await resolveRun(runsDir, 'mnist', 'sweep')).id, sweep.id);
    await assert.rejects(resolveRun(runsDir, 'mnist'), /ambiguous/);
    await assert.rejects(resolveRun(runsDir, 'latest', 'transfer'), /no transfer runs in/);
  }));

test('nextEvalPath is a millisecond UTC stamp, made unique with a suffix', () =>
  withTempDir(async (dir) => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    const first = await nextEvalPath(dir, date);
    assert.equal(first, join(dir, 'eval', '20240102-030405-006.json'));
    await writeFile(first, '{}');
    assert.equal(await nextEvalPath(dir, date), join(dir, 'eval', '20240102-030405-006-1.json'));
  }));
