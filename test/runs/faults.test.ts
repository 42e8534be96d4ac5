// The fault-injection seam: MTL_FAULT rules fail the n-th matching write (and every later one: a full
// disk stays full) the way Node's fs would, and the writers turn that into one StorageError naming
// the path, leaving no temp file and the previous content in place.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { StorageError } from '../../src/errors.ts';
import { appendJsonl, asStorageError, writeFileAtomic } from '../../src/runs/atomic.ts';
import { faultPoint, parseFaults } from '../../src/runs/faults.ts';
import { withTempDir } from './helpers.ts';

afterEach(() => {
  delete process.env.MTL_FAULT;
});

test('rules parse kind, path substring and count; a malformed rule is refused', () => {
  assert.deepEqual(parseFaults('enospc:weights.bin:3,kill::1'), [
    { kind: 'enospc', pattern: 'weights.bin', nth: 3, seen: 0 },
    { kind: 'kill', pattern: '', nth: 1, seen: 0 },
  ]);
  assert.deepEqual(parseFaults('erofs:C:/runs/x:2')[0]?.pattern, 'C:/runs/x');
  for (const bad of ['enospc:x', 'full:x:1', 'eacces:x:0', 'eacces:x:two'])
    assert.throws(() => parseFaults(bad), /MTL_FAULT/);
});

test('the n-th matching write fails, and every one after it; other paths are untouched', () => {
  process.env.MTL_FAULT = 'enospc:metrics:2';
  faultPoint('/r/metrics.jsonl');
  faultPoint('/r/run.json');
  assert.throws(() => faultPoint('/r/metrics.jsonl'), { code: 'ENOSPC', path: '/r/metrics.jsonl' });
  assert.throws(() => faultPoint('/r/metrics.jsonl'), { code: 'ENOSPC' });
  faultPoint('/r/run.json');
});

test('writers turn ENOSPC / EROFS / EACCES into a StorageError naming the path; the old file stays', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'run.json');
    await writeFileAtomic(file, 'old\n');
    for (const [kind, words] of [
      ['enospc', 'no space left on device \\(ENOSPC\\)'],
      ['erofs', 'read-only file system \\(EROFS\\)'],
      ['eacces', 'permission denied \\(EACCES\\)'],
    ] as const) {
      process.env.MTL_FAULT = `${kind}:run.json:1`;
      await assert.rejects(writeFileAtomic(file, 'new\n'), (err: unknown) => {
        assert.ok(err instanceof StorageError, String(err));
        assert.equal(err.exitCode, 5);
        assert.match(err.message, new RegExp(`^cannot write ${file.replace(/[.]/g, '\\.')}: ${words}$`));
        return true;
      });
    }
    assert.equal(readFileSync(file, 'utf8'), 'old\n');
    process.env.MTL_FAULT = 'enospc:metrics.jsonl:1';
    await assert.rejects(appendJsonl(join(dir, 'metrics.jsonl'), { epoch: 1 }), StorageError);
    assert.deepEqual(readdirSync(dir), ['run.json'], 'no temp file, no half-written metrics');
  });
});

test('errors that are not about storage pass through unchanged', () => {
  const err = Object.assign(new Error('nope'), { code: 'ENOENT' });
  assert.equal(asStorageError(err, '/x'), err);
});
