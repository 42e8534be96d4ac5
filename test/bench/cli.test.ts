// `mtl bench` through the real CLI on a smoke-sized workload: child process, metrics.jsonl timings,
// peak RSS probe, --out files, and a baseline it cannot meet (exit 4, naming the workload).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { suiteWorkloads } from '../../src/bench/workloads.ts';
import { mtl, STACK_LINE, tempDir } from '../e2e/helpers.ts';

const PEERS = join(import.meta.dirname, '..', '..', 'bench', 'peers');

const dir = tempDir('mtl-bench-cli-');

test('a smoke run measures the workload and writes the three files', () => {
  const out = join(dir, 'out');
  const r = mtl(['bench', '--workload', 'mnist-mlp', '--limit', '600', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    workloads: Array<{
      name: string;
      epochs: unknown;
      samplesPerEpoch: number;
      secondsPerEpoch: { min: number; median: number; max: number };
      peakRssMB: number;
      accuracy: number;
    }>;
  };
  const w = report.workloads[0]!;
  assert.equal(w.name, 'mnist-mlp@600');
  assert.deepEqual(w.epochs, { warmup: 1, measured: 3 });
  assert.equal(w.samplesPerEpoch, 600);
  assert.ok(w.secondsPerEpoch.min <= w.secondsPerEpoch.median && w.secondsPerEpoch.median <= w.secondsPerEpoch.max);
  assert.ok(w.peakRssMB > 50, `peak RSS ${w.peakRssMB}`);
  assert.ok(w.accuracy > 0.1 && w.accuracy <= 1);
  const smaller = JSON.parse(readFileSync(join(out, 'smaller_is_better.json'), 'utf8')) as Array<{
    name: string;
    value: number;
  }>;
  assert.equal(
    smaller.find((e) => e.name === 'mnist-mlp@600 epoch time')!.value,
    Math.round(w.secondsPerEpoch.median * 1000) / 1000,
  );
});

test('a baseline it cannot meet exits 4 and names the workload', () => {
  const baseline = join(dir, 'fast.json');
  writeFileSync(baseline, JSON.stringify([{ name: 'mnist-mlp@600 epoch time', unit: 's/epoch', value: 0.0001 }]));
  const r = mtl([
    'bench',
    '--workload',
    'mnist-mlp',
    '--limit',
    '600',
    '--baseline',
    baseline,
    '--fail-on-regression',
    '50',
  ]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /regression beyond 50% in mnist-mlp@600: mnist-mlp@600 epoch time/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('bad flags are usage errors (2); a missing baseline is an input error (3)', () => {
  const usage = [
    [['bench', '--fail-on-regression', '10'], /needs --baseline/],
    [['bench', '--suite', 'huge'], /quick, full/],
    [['bench', '--workload', 'nosuch'], /unknown workload 'nosuch'/],
  ] as const;
  for (const [args, pattern] of usage) {
    const r = mtl([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const r = mtl(['bench', '--baseline', join(dir, 'none.json')]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /none\.json.*file not found/);
});

/** The Python `mtl bench --peers` finds (MTL_PEER_PYTHON, python3, /usr/bin/python3), or why none. */
function peerSkipReason(): string | null {
  const candidates = process.env.MTL_PEER_PYTHON ? [process.env.MTL_PEER_PYTHON] : ['python3', '/usr/bin/python3'];
  const ok = candidates.some((py) => spawnSync(py, ['-c', 'import torch, numpy']).status === 0);
  if (ok) return null;
  if (process.env.CI === 'true')
    throw new Error('CI=true: the bench peer tests need python3-torch (.ci/run installs it)');
  return 'no Python with PyTorch (apt-get install python3-torch libopenblas0-pthread)';
}

test('every epoch workload of both suites has a PyTorch peer', () => {
  for (const suite of ['quick', 'full'] as const) {
    const epochs = suiteWorkloads(suite).filter((w) => w.kind === 'epoch');
    assert.deepEqual(
      epochs.map((w) => w.name.split('@')[0]),
      ['mnist-mlp', 'mnist-mlp-standardized', 'mnist-cnn', 'mnist-cnn-bn', 'multimnist-hps'],
    );
    for (const w of epochs) assert.ok(w.peer && existsSync(join(PEERS, w.peer.script)), `${w.name} has a peer`);
  }
});

test('--peers --rounds 2 runs the MultiLeNet peer beside mtl, alternating, and reports mtl ÷ PyTorch', {
  skip: peerSkipReason() ?? false,
}, () => {
  const r = mtl(['bench', '--workload', 'multimnist-hps', '--limit', '300', '--peers', '--rounds', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    rounds: number;
    workloads: Array<{ name: string; rounds: number[]; secondsPerEpoch: { median: number } }>;
    peers: Array<{
      workload: string;
      engine: string;
      ratio: number;
      secondsPerEpoch: { median: number };
      rounds: Array<{ mtl: number; peer: number; ratio: number }>;
    }>;
  };
  assert.equal(report.rounds, 2);
  const [peer] = report.peers;
  assert.equal(peer?.workload, 'multimnist-hps@300');
  assert.match(peer.engine, /^pytorch-/);
  const mine = report.workloads.find((w) => w.name === peer.workload)!;
  assert.equal(mine.rounds.length, 2);
  assert.equal(peer.rounds.length, 2);
  peer.rounds.forEach((round, k) => {
    assert.equal(round.mtl, mine.rounds[k]);
    assert.ok(Math.abs(round.ratio - round.mtl / round.peer) < 1e-9);
  });
  // The median of two rounds' ratios is their mean.
  assert.ok(Math.abs(peer.ratio - (peer.rounds[0]!.ratio + peer.rounds[1]!.ratio) / 2) < 1e-9);
  // Round 1 runs mtl first, round 2 the peer first.
  const order = [...r.stderr.matchAll(/^(\[1\/1\] multimnist-hps@300 \(round \d\/2\)|peer multimnist-hps@300)/gm)].map(
    (m) => (m[1]!.startsWith('peer') ? 'peer' : 'mtl'),
  );
  assert.deepEqual(order, ['mtl', 'peer', 'peer', 'mtl']);
  assert.match(r.stderr, /bench\/peers\/torch_multimnist\.py/);
  assert.match(r.stderr, /ratio by round: \d+\.\d\dx, \d+\.\d\dx/);
});
