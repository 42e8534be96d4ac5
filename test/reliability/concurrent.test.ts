// Four runs started at once in one runs dir while `mtl runs ls --json` is read in a loop: every read
// is one whole JSON document (no torn run.json or summary.json), and the runs get four distinct ids.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { tempDir } from '../e2e/helpers.ts';
import { runFolders, runMtl, startMtl } from './helpers.ts';

const runs = tempDir('mtl-rel-concurrent-');
after(() => rmSync(runs, { recursive: true, force: true }));

test('four concurrent runs: distinct ids, and runs ls --json is never torn while they write', async () => {
  const train = (seed: number) =>
    startMtl(['train', 'configs/mnist-mlp.yaml', '--limit', '300', '--epochs', '3', '--seed', String(seed), '--json'], {
      MTL_RUNS_DIR: runs,
    });
  const started = [1, 2, 3, 4].map((seed) => ({ ...train(seed), seed }));
  let finished = false;
  const exits = Promise.all(started.map((s) => s.exit)).finally(() => {
    finished = true;
  });
  let reads = 0;
  while (!finished || reads < 2) {
    const ls = await runMtl(['runs', 'ls', '--json'], { MTL_RUNS_DIR: runs });
    assert.equal(ls.code, 0, ls.stderr);
    const docs = JSON.parse(ls.stdout) as { id: string; status: string; summary: unknown }[];
    reads++;
    for (const d of docs) {
      assert.match(d.id, /^mnist-mlp-\d{8}-\d{6}-[a-z0-9]{4}$/);
      assert.ok(['running', 'completed'].includes(d.status), `${d.id}: ${d.status}`);
    }
    if (finished) break;
  }
  for (const [i, r] of (await exits).entries()) assert.equal(r.code, 0, `run ${i + 1}: ${r.stderr}`);
  const ids = (await exits).map((r) => JSON.parse(r.stdout).runId as string);
  assert.equal(new Set(ids).size, 4, `distinct ids: ${ids.join(', ')}`);
  assert.equal(runFolders(runs).length, 4);
  const final = JSON.parse((await runMtl(['runs', 'ls', '--json'], { MTL_RUNS_DIR: runs })).stdout);
  assert.deepEqual(
    final.map((d: { status: string }) => d.status),
    ['completed', 'completed', 'completed', 'completed'],
  );
  assert.ok(reads >= 2, `runs ls was read ${reads} times`);
});
