// Bad input through the real CLI: the docs/design.md exit code and one readable paragraph, never a stack.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mtl, STACK_LINE, tempDir } from './helpers.ts';

const dir = tempDir();

function expectError(args: string[], code: number, pattern: RegExp): void {
  const r = mtl(args);
  assert.equal(r.code, code, `exit code of mtl ${args.join(' ')}\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, STACK_LINE, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing on stdout');
}

test('usage errors exit 2', () => {
  expectError(['train', 'configs/mnist-mlp.yaml', '--epochs', '-1'], 2, /epochs/);
  expectError(['train', 'configs/mnist-mlp.yaml', '--epochs', 'ten'], 2, /positive integer/);
  expectError(['train', 'configs/mnist-mlp.yaml', '--backend', 'nosuch'], 2, /auto, tensorflow, wasm, cpu/);
  expectError(['train'], 2, /missing required argument/);
  expectError(['nosuchcommand'], 2, /unknown command/);
  expectError(['train', 'configs/mnist-mlp.yaml', '--set', 'trainer.epochs'], 2, /--set/);
  expectError(['eval', 'latest', '--split', 'train'], 2, /test, val/);
});

test('invalid configs exit 3 and list every problem with its path and file:line:col', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'name: bad\nseed: -1\ntrainer:\n  batchsize: 64\n  optimizer:\n    name: adamw\n');
  const r = mtl(['validate', file]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /bad\.yaml:2:7: seed: /);
  assert.match(r.stderr, /bad\.yaml:4:3: trainer\.batchsize: unknown key .*did you mean 'batchSize'/);
  assert.match(r.stderr, /trainer\.optimizer\.name: .*adam, sgd, rmsprop/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  expectError(['train', join(dir, 'missing.yaml')], 3, /missing\.yaml/);
  expectError(['train', 'configs/mnist-mlp.yaml', '--set', 'trainer.epoch=3'], 3, /did you mean 'epochs'/);
  writeFileSync(join(dir, 'syntax.yaml'), 'name: x\ntrainer: [1, 2\n');
  expectError(['validate', join(dir, 'syntax.yaml')], 3, /syntax\.yaml:\d+:\d+/);
});

test('unknown runs and datasets exit 3; a failed run never corrupts earlier runs', () => {
  const runs = tempDir();
  expectError(['eval', 'nosuch', '--runs-dir', runs], 3, /no run/);
  const ok = mtl(['train', 'configs/mnist-mlp.yaml', '--limit', '200', '--epochs', '1', '--runs-dir', runs, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const before = readFileSync(join(JSON.parse(ok.stdout).runDir, 'summary.json'), 'utf8');
  expectError(
    ['train', 'configs/mnist-mlp.yaml', '--set', 'data.dataset=idx:/nonexistent', '--runs-dir', runs],
    3,
    /nonexistent/,
  );
  expectError(['eval', 'latest', '--runs-dir', runs], 3, /status failed\) has no 'best' checkpoint/);
  expectError(['eval', JSON.parse(ok.stdout).runId, '--runs-dir', runs, '--dataset', 'mnist:0-4'], 3, /5 classes/);
  assert.equal(readFileSync(join(JSON.parse(ok.stdout).runDir, 'summary.json'), 'utf8'), before);
  const statuses = readdirSync(runs)
    .map((d) => JSON.parse(readFileSync(join(runs, d, 'run.json'), 'utf8')).status)
    .sort();
  assert.deepEqual(statuses, ['completed', 'failed']);
});

test('--require-gpu without a GPU backend is an environment error (exit 5)', () => {
  expectError(
    ['train', 'configs/mnist-mlp.yaml', '--require-gpu', '--limit', '100', '--runs-dir', tempDir()],
    5,
    /--require-gpu.*CUDA 11\.2/,
  );
});

test('validate, config, runs ls and doctor succeed', () => {
  const v = mtl(['validate', 'configs/mnist-mlp.yaml']);
  assert.equal(v.code, 0, v.stderr);
  const c = mtl(['config', 'configs/mnist-mlp.yaml', '--set', 'trainer.epochs=3']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /hidden: \[128\]/);
  assert.match(c.stdout, /epochs: 3/);
  const d = mtl(['doctor', '--json']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(JSON.parse(d.stdout).selected.name, 'wasm');
  const runs = tempDir();
  const cpu = mtl([
    'train',
    'configs/mnist-mlp.yaml',
    '--backend',
    'cpu',
    '--limit',
    '100',
    '--epochs',
    '1',
    '--runs-dir',
    runs,
    '--json',
  ]);
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.deepEqual(JSON.parse(cpu.stdout).backend, { name: 'cpu', gpu: false });
  const ls = mtl(['runs', 'ls', '--runs-dir', runs, '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.equal(JSON.parse(ls.stdout)[0].id, JSON.parse(cpu.stdout).runId);
  const h = mtl(['train', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Examples:/);
});
