// `mtl bench` through the real CLI on a smoke-sized workload: child process, metrics.jsonl timings,
// peak RSS probe, --out files, and a baseline it cannot meet (exit 4, naming the workload).

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mtl, STACK_LINE, tempDir } from '../e2e/helpers.ts';

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
