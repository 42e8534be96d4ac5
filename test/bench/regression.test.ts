// --baseline / --fail-on-regression: any of the three output files is a baseline; only slowdowns
// beyond the threshold fail, in either direction of "better".

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportMetrics, toEntries, writeBenchOutputs } from '../../src/bench/format.ts';
import { baselineValues, compareWithBaseline, readBaseline, workloadOf } from '../../src/bench/regression.ts';
import { InputError } from '../../src/errors.ts';
import { epochResult, fakeReport, jobResult } from './helpers.ts';

const base = fakeReport([epochResult('mnist-mlp', 2), jobResult('transfer', 50)]);

test('a slower epoch beyond the threshold regresses; within it does not', () => {
  const baseline = baselineValues(toEntries(reportMetrics(base)), 'x');
  const slower = reportMetrics(fakeReport([epochResult('mnist-mlp', 2.5), jobResult('transfer', 51)]));
  const c = compareWithBaseline(slower, baseline, 20);
  const time = c.find((x) => x.name === 'mnist-mlp epoch time')!;
  assert.equal(time.worsePct, 25);
  assert.equal(time.regressed, true);
  const throughput = c.find((x) => x.name === 'mnist-mlp throughput')!;
  assert.ok(Math.abs(throughput.worsePct - 20) < 1e-9, 'throughput 500 → 400 samples/s is 20% worse');
  assert.equal(throughput.regressed, false, 'exactly at the threshold is not beyond it');
  assert.equal(c.find((x) => x.name === 'transfer wall time')!.regressed, false);
  assert.deepEqual([...new Set(c.filter((x) => x.regressed).map((x) => workloadOf(x.name)))], ['mnist-mlp']);
});

test('faster is never a regression; memory and accuracy are reported but never fail', () => {
  const baseline = baselineValues(reportMetrics(base), 'x');
  const current = reportMetrics(
    fakeReport([epochResult('mnist-mlp', 1, { peakRssMB: 5000, accuracy: 0.5 }), jobResult('transfer', 10)]),
  );
  const c = compareWithBaseline(current, baseline, 0);
  assert.ok(c.find((x) => x.name === 'mnist-mlp epoch time')!.worsePct < 0);
  assert.ok(c.find((x) => x.name === 'mnist-mlp peak RSS')!.worsePct > 0);
  assert.deepEqual(
    c.filter((x) => x.regressed),
    [],
  );
});

test('without --fail-on-regression the comparison is report-only', () => {
  const c = compareWithBaseline(
    reportMetrics(fakeReport([epochResult('mnist-mlp', 10)])),
    baselineValues(reportMetrics(base), 'x'),
    null,
  );
  assert.ok(c.length > 0);
  assert.ok(c.every((x) => !x.regressed));
});

test('metrics missing from the baseline (new workloads) are skipped', () => {
  const c = compareWithBaseline(
    reportMetrics(fakeReport([epochResult('new-workload', 1)])),
    baselineValues(reportMetrics(base), 'x'),
    5,
  );
  assert.deepEqual(c, []);
});

test('each of the three --out files reads back as a baseline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-bench-base-'));
  await writeBenchOutputs(dir, base);
  const smaller = await readBaseline(join(dir, 'smaller_is_better.json'));
  const bigger = await readBaseline(join(dir, 'bigger_is_better.json'));
  const results = await readBaseline(join(dir, 'results.json'));
  assert.equal(smaller.get('mnist-mlp epoch time'), 2);
  assert.equal(bigger.get('mnist-mlp throughput'), 500);
  assert.equal(results.get('mnist-mlp epoch time'), 2);
  assert.equal(results.get('transfer wall time'), 50);
});

test('a missing or foreign baseline file is an input error (exit 3)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-bench-bad-'));
  await assert.rejects(
    readBaseline(join(dir, 'nope.json')),
    (e: unknown) => e instanceof InputError && /file not found/.test((e as Error).message),
  );
  writeFileSync(join(dir, 'other.json'), '{"hello": 1}');
  await assert.rejects(readBaseline(join(dir, 'other.json')), InputError);
  writeFileSync(join(dir, 'broken.json'), '[{');
  await assert.rejects(readBaseline(join(dir, 'broken.json')), InputError);
});
