// The evaluation report's shape and values, and the repeated-measurement summaries.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { classificationReport, meanStd, summarizeSeconds } from '../../src/metrics/report.ts';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

test('classificationReport combines loss, accuracy, F1, AUC, per-class and confusion', () => {
  const probs = new Float32Array([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.2, 0.2, 0.6, 0.6, 0.1, 0.3]);
  const r = classificationReport([0, 1, 2, 2], probs, 3);
  assert.deepEqual(Object.keys(r), ['loss', 'accuracy', 'macroF1', 'aucRoc', 'perClass', 'confusion']);
  // predictions 0, 1, 2, 0 → accuracy 3/4
  assert.deepEqual(r.confusion, [
    [1, 0, 0],
    [0, 1, 0],
    [1, 0, 1],
  ]);
  close(r.accuracy, 0.75);
  close(r.loss, -(Math.log(0.6) + Math.log(0.5) + Math.log(0.6) + Math.log(0.3)) / 4, 1e-6);
  // F1: class 0 P 1/2 R 1 → 2/3; class 1 → 1; class 2 P 1 R 1/2 → 2/3
  close(r.macroF1, (2 / 3 + 1 + 2 / 3) / 3);
  close(r.aucRoc, 65 / 72, 1e-7);
  assert.equal(r.perClass.length, 3);
  assert.throws(() => classificationReport([], new Float32Array(0), 3), InputError);
});

test('summarizeSeconds gives median, min and max', () => {
  assert.deepEqual(summarizeSeconds([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(summarizeSeconds([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.throws(() => summarizeSeconds([]), RangeError);
});

test('meanStd uses the sample standard deviation and 0 for one value', () => {
  const r = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  close(r.mean, 5);
  close(r.std, Math.sqrt(32 / 7)); // squared deviations sum to 32, n − 1 = 7
  assert.deepEqual(meanStd([0.97]), { mean: 0.97, std: 0 });
  assert.throws(() => meanStd([]), RangeError);
});
