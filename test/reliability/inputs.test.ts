// Bad inputs through the real CLI: a YAML alias bomb and an empty config exit 3 naming the file, and a
// loss that becomes non-finite fails the run cleanly (exit 1, epoch and step named, the best checkpoint
// kept). The NaN run is a real one: a MultiMNIST run stopped after epoch 1, its learning rate raised
// to 1e6 in config.yaml, resumed with --force (recorded as an inexact resume).

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { verifyCheckpoint } from '../../src/models/checkpoint.ts';
import type { RunRecord } from '../../src/runs/run-record.ts';
import { STACK_LINE, tempDir } from '../e2e/helpers.ts';
import { readJson, runFolders, runMtl, savedEpoch, sha256, startMtl, waitUntil } from './helpers.ts';

const dir = tempDir('mtl-rel-inputs-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a YAML alias bomb and an empty config exit 3 naming the file', async () => {
  const bomb = join(dir, 'bomb.yaml');
  const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh']) {
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  writeFileSync(bomb, `${levels.join('\n')}\n`);
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '# TODO: fill in\n');
  const [b, e] = await Promise.all([runMtl(['validate', bomb]), runMtl(['train', empty, '--runs-dir', dir])]);
  assert.equal(b.code, 3, b.stderr);
  assert.match(b.stderr, new RegExp(`cannot parse ${bomb}:\\n  ${bomb}: \\(root\\): YAML aliases expand too much`));
  assert.equal(e.code, 3, e.stderr);
  assert.match(e.stderr, new RegExp(`${empty}: \\(root\\): the file is empty: it sets no keys`));
  for (const r of [b, e]) assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('a loss that becomes infinite fails the run: exit 1, epoch and step named, the best checkpoint kept', async () => {
  const runs = join(dir, 'runs');
  const args = ['train', 'configs/multimnist-hps.yaml', '--limit', '600', '--epochs', '4', '--runs-dir', runs];
  const run = startMtl(args);
  await waitUntil(() => runFolders(runs).some((d) => savedEpoch(d) >= 1), run);
  run.child.kill('SIGTERM');
  assert.equal((await run.exit).code, 130);
  const [folder] = runFolders(runs) as [string];
  const stopped = savedEpoch(folder);
  const bestWeights = join(folder, 'checkpoints', 'best', 'weights.bin');
  const before = sha256(bestWeights);
  const config = join(folder, 'config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/lr: 0\.001/, 'lr: 1000000'));
  const refused = await runMtl(['resume', folder]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /cannot resume .* exactly: this changed since it was saved:\n {2}- config \(hash\): /);
  assert.match(refused.stderr, /Run with --force/);

  const r = await runMtl(['resume', folder, '--force']);
  assert.equal(r.code, 1, r.stderr);
  const named = /error: loss became (NaN|infinite) at epoch (\d+), step (\d+): training stopped; the best checkpoint/;
  const [, , epoch] = named.exec(r.stderr) ?? assert.fail(r.stderr);
  const failedAt = Number(epoch);
  assert.ok(failedAt > stopped, `it failed in a resumed epoch (${failedAt})`);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  const record = readJson<RunRecord>(join(folder, 'run.json'));
  assert.equal(record.status, 'failed');
  assert.match(record.error ?? '', /loss became/);
  assert.equal(record.resumeExact, false);
  assert.match(record.resumes?.[0]?.changed?.[0] ?? '', /^config \(hash\): /);
  // The failed epoch saved nothing: last/ holds the epoch before it, best/ the best epoch up to then, intact.
  assert.equal(savedEpoch(folder), failedAt - 1);
  verifyCheckpoint(join(folder, 'checkpoints', 'best'));
  const bestEpoch = readJson<{ userDefinedMetadata: { epoch: number } }>(
    join(folder, 'checkpoints', 'best', 'model.json'),
  ).userDefinedMetadata.epoch;
  assert.ok(bestEpoch >= 1 && bestEpoch < failedAt, `best epoch ${bestEpoch}`);
  if (failedAt === stopped + 1) assert.equal(sha256(bestWeights), before, 'untouched since the stop');
});
