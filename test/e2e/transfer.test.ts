// `mtl transfer` end to end through the real CLI on tiny data: the summary document, lineage in
// run.json (source, children, parents), reuse of a matching source run, `mtl eval` of a transfer
// run, `mtl train` in finetune mode, and usage errors.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { mtl, tempDir } from './helpers.ts';

const runsDir = tempDir('mtl-transfer-');
const TINY = ['--limit', '300', '--epochs', '1', '--source-epochs', '1', '--runs-dir', runsDir];
const readJson = (...p: string[]) => JSON.parse(readFileSync(join(...p), 'utf8'));
const pretrainRuns = (): string[] =>
  readdirSync(runsDir).filter((d) => readJson(runsDir, d, 'run.json').kind === 'pretrain');
let first: {
  runId: string;
  runDir: string;
  source: { runId: string; reused: boolean };
  strategies: Record<string, { runIds: string[] }>;
} & Record<string, unknown>;

let firstRun: { code: number | null; stdout: string; stderr: string };
// The run every test below reads: made once here, so no test depends on another having run.
before(() => {
  firstRun = mtl(['transfer', '--from', 'mnist', '--to', 'fashion', ...TINY, '--json']);
  if (firstRun.code === 0) first = JSON.parse(firstRun.stdout);
});

test('transfer --json: source, default strategies, gain vs reinit, zero-shot, and lineage in run.json', () => {
  const r = firstRun;
  assert.equal(r.code, 0, r.stderr);
  for (const key of ['runId', 'kind', 'status', 'source', 'target', 'strategies', 'gain', 'zeroShot', 'notes', 'seeds'])
    assert.ok(key in first, key);
  assert.equal(first.kind, 'transfer');
  assert.equal(first.source.reused, false);
  assert.deepEqual(Object.keys(first.strategies), ['full', 'linear-probe', 'reinit', 'zero-shot']);
  assert.deepEqual(Object.keys(first.gain as object), ['full', 'linear-probe', 'zero-shot']);
  assert.match(r.stderr, /source.*mnist test accuracy/);
  assert.match(r.stderr, /gain vs scratch/);
  assert.match(r.stderr, /zero-shot: the source model/);

  const record = readJson(first.runDir, 'run.json');
  assert.equal(record.kind, 'transfer');
  assert.equal(record.sourceRunId, first.source.runId);
  const children = Object.values(first.strategies).flatMap((s) => s.runIds);
  assert.deepEqual([...record.childRunIds].sort(), [...children].sort());
  for (const id of children) {
    const child = readJson(runsDir, id, 'run.json');
    assert.equal(child.kind, 'finetune');
    assert.equal(child.parentRunId, first.runId);
    assert.match(readFileSync(join(runsDir, id, 'config.yaml'), 'utf8'), new RegExp(`from: ${first.source.runId}`));
  }
  assert.equal(readJson(runsDir, first.source.runId, 'run.json').kind, 'pretrain');
  assert.deepEqual(readJson(first.runDir, 'summary.json'), first);
});

test('a second transfer with the same source config reuses the source run instead of retraining', () => {
  const r = mtl([
    'transfer',
    '--from',
    'mnist',
    '--to',
    'fashion',
    ...TINY,
    '--strategy',
    'full',
    '--strategy',
    'reinit',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const second = JSON.parse(r.stdout);
  assert.equal(second.source.reused, true);
  assert.equal(second.source.runId, first.source.runId);
  assert.deepEqual(pretrainRuns(), [first.source.runId]);
  assert.match(r.stderr, /reusing/);
  assert.doesNotMatch(r.stderr, /source epoch/);
  // A different source budget is a different config: it must not be reused.
  const other = mtl([
    'transfer',
    '--from',
    'mnist',
    '--to',
    'fashion',
    ...TINY,
    '--source-epochs',
    '2',
    '--strategy',
    'full',
    '--json',
  ]);
  assert.equal(other.code, 0, other.stderr);
  assert.equal(JSON.parse(other.stdout).source.reused, false);
  assert.equal(pretrainRuns().length, 2);
});

test('eval of a transfer run evaluates its best fine-tuned child, or the --strategy one', () => {
  const r = mtl(['eval', first.runId, '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const fineTuned = [...first.strategies.full!.runIds, ...first.strategies['linear-probe']!.runIds];
  assert.ok(fineTuned.includes(JSON.parse(r.stdout).runId));
  const reinit = mtl(['eval', first.runId, '--runs-dir', runsDir, '--strategy', 'reinit', '--json']);
  assert.equal(JSON.parse(reinit.stdout).runId, first.strategies.reinit!.runIds[0]);
  const bad = mtl(['eval', first.source.runId, '--runs-dir', runsDir, '--strategy', 'full']);
  assert.equal(bad.code, 2);
});

test('--from <run id> and mtl train with trainer.mode finetune start from that run', () => {
  const fromRun = mtl([
    'transfer',
    '--from',
    first.source.runId,
    '--to',
    'mnist:5-9',
    ...TINY,
    '--strategy',
    'linear-probe',
    '--json',
  ]);
  assert.equal(fromRun.code, 0, fromRun.stderr);
  const doc = JSON.parse(fromRun.stdout);
  assert.equal(doc.source.runId, first.source.runId);
  assert.equal(doc.target.numClasses, 5);
  // init.from by run name (as the example config does) picks the newest completed run of that name.
  const newest = pretrainRuns().find((id) => id !== first.source.runId)!;
  const train = mtl([
    'train',
    'configs/mnist-to-fashion-finetune.yaml',
    '--set',
    'init.from=mnist-mlp',
    '--set',
    'finetune.strategy=gradual',
    '--limit',
    '300',
    '--epochs',
    '2',
    '--runs-dir',
    runsDir,
    '--json',
  ]);
  assert.equal(train.code, 0, train.stderr);
  const summary = JSON.parse(train.stdout);
  assert.equal(summary.kind, 'finetune');
  assert.equal(readJson(summary.runDir, 'run.json').parentRunId, newest);
  const phases = readFileSync(join(summary.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).phase);
  assert.deepEqual(phases, ['unfreeze-1/2', 'unfreeze-2/2']);
});

test('usage errors exit 2 before anything trains', () => {
  for (const args of [
    ['--from', 'mnist', '--to', 'fashion', '--strategy', 'freeze-conv'],
    ['--from', 'mnist', '--to', 'fashoin'],
    ['--from', 'mnist', '--to', 'fashion', '--strategy', 'magic'],
    ['--from', 'mnist', '--to', 'mnist:0-4', '--keep-head'],
  ]) {
    const r = mtl(['transfer', ...args, '--runs-dir', runsDir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error/);
  }
});
