// Δm in both conventions on a hand-computed two-task example: they must have opposite signs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { deltaPPct, performanceDropPct, type TaskMetricEntry } from '../../src/metrics/multitask.ts';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

// Task a improves accuracy 0.8 → 0.9 (+12.5%); task b's loss worsens 0.4 → 0.5 (25% worse).
const TWO_TASKS: TaskMetricEntry[] = [
  { task: 'a', metric: 'accuracy', value: 0.9, baseline: 0.8, higherIsBetter: true },
  { task: 'b', metric: 'loss', value: 0.5, baseline: 0.4, higherIsBetter: false },
];

test('Maninis Δm is an average drop: positive means the multi-task model is worse', () => {
  close(performanceDropPct(TWO_TASKS), ((-0.125 + 0.25) / 2) * 100); // 6.25
});

test('LibMTL Δp is an average improvement: positive means the multi-task model is better', () => {
  close(deltaPPct(TWO_TASKS), ((0.125 - 0.25) / 2) * 100); // −6.25
});

test('Δp averages metrics within a task before averaging tasks; Δm averages all entries', () => {
  const entries: TaskMetricEntry[] = [
    ...TWO_TASKS,
    { task: 'a', metric: 'macroF1', value: 0.7, baseline: 0.7, higherIsBetter: true },
  ];
  close(deltaPPct(entries), (((0.125 + 0) / 2 - 0.25) / 2) * 100); // −9.375
  close(performanceDropPct(entries), ((-0.125 + 0.25 + 0) / 3) * 100);
});

test('Δm rejects empty input and zero baselines', () => {
  assert.throws(() => performanceDropPct([]), InputError);
  assert.throws(
    () => deltaPPct([{ task: 'a', metric: 'loss', value: 1, baseline: 0, higherIsBetter: false }]),
    /a\.loss/,
  );
});
