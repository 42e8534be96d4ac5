// github-action-benchmark output: which metrics go to which file, with the fields the action reads.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTPUT_FILES, reportMetrics, toEntries, writeBenchOutputs } from '../../src/bench/format.ts';
import { epochResult, fakeReport, jobResult } from './helpers.ts';

test('an epoch workload gives time, throughput, peak RSS and accuracy with their directions', () => {
  const metrics = reportMetrics(fakeReport([epochResult('mnist-mlp', 2)]));
  const byName = new Map(metrics.map((m) => [m.name, m]));
  assert.deepEqual(
    [...byName.keys()],
    ['mnist-mlp epoch time', 'mnist-mlp throughput', 'mnist-mlp peak RSS', 'mnist-mlp test accuracy'],
  );
  assert.deepEqual(byName.get('mnist-mlp epoch time'), {
    name: 'mnist-mlp epoch time',
    unit: 's/epoch',
    value: 2,
    direction: 'smaller',
    speed: true,
    range: '1.8–2.4',
    extra: 'median; backend wasm, 2 threads, 3 epochs after 1 warm-up',
  });
  assert.equal(byName.get('mnist-mlp throughput')!.value, 500);
  assert.equal(byName.get('mnist-mlp throughput')!.direction, 'bigger');
  assert.equal(byName.get('mnist-mlp test accuracy')!.value, 97);
  assert.equal(byName.get('mnist-mlp peak RSS')!.speed, false);
});

test('a job workload is measured by wall time; peers add a ratio', () => {
  const report = fakeReport([epochResult('mnist-cnn', 30), jobResult('transfer', 55.5)]);
  report.peers.push({
    workload: 'mnist-cnn',
    engine: 'pytorch-1.13.0',
    threads: 1,
    secondsPerEpoch: { median: 20, min: 19, max: 21 },
    samplesPerSecond: 2700,
    accuracy: 0.99,
    ratio: 1.5,
  });
  const names = reportMetrics(report).map((m) => m.name);
  assert.ok(names.includes('transfer wall time'));
  assert.ok(!names.includes('transfer epoch time'));
  const ratio = reportMetrics(report).find((m) => m.name === 'mnist-cnn time vs pytorch')!;
  assert.equal(ratio.value, 1.5);
  assert.equal(ratio.direction, 'smaller');
});

test('entries carry only name, unit, value, range and extra', () => {
  const entries = toEntries(reportMetrics(fakeReport([epochResult('a', 1)])));
  for (const e of entries) {
    assert.deepEqual(
      Object.keys(e).filter((k) => !['name', 'unit', 'value', 'range', 'extra'].includes(k)),
      [],
    );
    assert.equal(typeof e.value, 'number');
  }
});

test('--out writes the two github-action-benchmark files and results.json', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mtl-bench-out-')), 'nested');
  const report = fakeReport([epochResult('mnist-mlp', 2), jobResult('transfer', 40)]);
  await writeBenchOutputs(dir, report);
  const smaller = JSON.parse(readFileSync(join(dir, OUTPUT_FILES.smaller), 'utf8')) as Array<{
    name: string;
    unit: string;
  }>;
  const bigger = JSON.parse(readFileSync(join(dir, OUTPUT_FILES.bigger), 'utf8')) as Array<{ name: string }>;
  assert.deepEqual(
    smaller.map((e) => e.name),
    ['mnist-mlp epoch time', 'mnist-mlp peak RSS', 'transfer wall time', 'transfer peak RSS'],
  );
  assert.deepEqual(
    bigger.map((e) => e.name),
    ['mnist-mlp throughput', 'mnist-mlp test accuracy', 'transfer test accuracy'],
  );
  assert.deepEqual(JSON.parse(readFileSync(join(dir, OUTPUT_FILES.results), 'utf8')), report);
});
