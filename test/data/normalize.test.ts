import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyPreprocess,
  featureStats,
  fitPreprocess,
  PIXEL_SCALE,
  type Preprocess,
} from '../../src/data/normalize.ts';
import type { Split } from '../../src/data/types.ts';
import { Rng } from '../../src/random/rng.ts';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≉ ${b}`);

// 3 examples x 3 features: feature 0 constant, feature 1 = 10/20/30, feature 2 = 255/255/0.
const tiny: Split = { x: Uint8Array.from([0, 10, 255, 0, 20, 255, 0, 30, 0]), y: Uint8Array.from([0, 1, 0]), n: 3 };

test('none and scale01 are the documented steps', () => {
  assert.deepEqual(fitPreprocess('none', tiny, [3]), { inputShape: [3], steps: [] });
  const p = fitPreprocess('scale01', tiny, [3]);
  assert.deepEqual(p, { inputShape: [3], steps: [{ op: 'scale', factor: 1 / 255 }] });
  assert.deepEqual(Array.from(applyPreprocess(fitPreprocess('none', tiny, [3]), tiny.x, 3)), Array.from(tiny.x));
  const scaled = applyPreprocess(p, tiny.x, 3);
  assert.equal(scaled[2], 1);
  assert.equal(scaled[1], Math.fround(10 / 255));
});

test('standardize fits mean and population std of scaled training pixels (hand-computed)', () => {
  const p = fitPreprocess('standardize', tiny, [3]);
  assert.equal(p.steps.length, 2);
  assert.deepEqual(p.steps[0], { op: 'scale', factor: PIXEL_SCALE });
  const step = p.steps[1]!;
  assert.equal(step.op, 'standardize');
  if (step.op !== 'standardize') return;
  close(step.mean[0]!, 0);
  close(step.mean[1]!, 20 / 255, 1e-12);
  close(step.mean[2]!, 2 / 3, 1e-12);
  assert.equal(step.std[0], 1, 'a constant feature gets std 1 (sklearn)');
  close(step.std[1]!, Math.sqrt(200 / 3) / 255, 1e-12); // ddof 0
  close(step.std[2]!, Math.sqrt(2 / 9), 1e-12);
});

test('applyPreprocess matches a hand computation of the steps in order', () => {
  const p = fitPreprocess('standardize', tiny, [3]);
  const out = applyPreprocess(p, tiny.x, 3);
  const want = [
    0,
    -10 / Math.sqrt(200 / 3),
    (1 - 2 / 3) / Math.sqrt(2 / 9),
    0,
    0,
    (1 - 2 / 3) / Math.sqrt(2 / 9),
    0,
    10 / Math.sqrt(200 / 3),
    (0 - 2 / 3) / Math.sqrt(2 / 9),
  ];
  want.forEach((w, k) => {
    close(out[k]!, w, 1e-6);
  });
  // Explicit steps on float32 input, independent of fitting.
  const manual: Preprocess = {
    inputShape: [2],
    steps: [
      { op: 'scale', factor: 0.5 },
      { op: 'standardize', mean: [1, -1], std: [2, 4] },
    ],
  };
  assert.deepEqual(Array.from(applyPreprocess(manual, Float32Array.from([6, 2, -2, 10]), 2)), [1, 0.5, -1, 1.5]);
  assert.throws(() => applyPreprocess(manual, new Float32Array(3), 2), /expects 2 x 2 values/);
});

test("bytes map through a table: every value gives the multiply-add's float32 bits", () => {
  // All 256 byte values in each of 3 features; shared a, b (scale01: one table) and per-feature ones.
  const x = Uint8Array.from({ length: 256 * 3 }, (_, k) => (k / 3) | 0);
  const floats = Float32Array.from(x);
  const steps: Preprocess['steps'][] = [
    [{ op: 'scale', factor: PIXEL_SCALE }],
    [
      { op: 'scale', factor: PIXEL_SCALE },
      { op: 'standardize', mean: [0.1, 0.2, 0.3], std: [0.7, 1.3, 0.011] },
    ],
  ];
  for (const s of steps) {
    const p: Preprocess = { inputShape: [3], steps: s };
    // The float path computes fround(x) · a + b per value: the reference for the byte path's table.
    assert.deepEqual(applyPreprocess(p, x, 256), applyPreprocess(p, floats, 256), JSON.stringify(s));
  }
});

test('standardized training data has mean 0 / std 1 per non-constant feature', () => {
  const rng = new Rng(11);
  const n = 500;
  const f = 6;
  const x = new Uint8Array(n * f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) x[i * f + j] = j === 3 ? 42 : Math.min(255, Math.floor(rng.next() * 40 * (j + 1)));
  }
  const train: Split = { x, y: new Uint8Array(n), n };
  const p = fitPreprocess('standardize', train, [2, 3, 1]);
  assert.deepEqual(p.inputShape, [2, 3, 1]);
  const out = applyPreprocess(p, x, n);
  const { mean, std } = featureStats(out, n, f);
  for (let j = 0; j < f; j++) {
    close(mean[j]!, 0, 1e-5);
    if (j === 3) {
      assert.equal(std[j], 1, 'constant feature: std reported as 1 (all zeros after standardizing)');
      assert.ok(out.filter((_, k) => k % f === 3).every((v) => v === 0));
    } else {
      close(std[j]!, 1, 1e-5);
    }
  }
});

test('fitPreprocess rejects an input shape that does not match the data', () => {
  assert.throws(() => fitPreprocess('standardize', tiny, [4]), /input shape \[4\] has 4 features, data has 3/);
  assert.throws(() => featureStats(new Uint8Array(0), 0, 3), /empty training split/);
});
