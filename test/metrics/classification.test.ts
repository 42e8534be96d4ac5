// Classification metrics checked against values worked out by hand (and a brute-force AUC).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../src/errors.ts';
import {
  accuracyFromConfusion,
  argmaxRows,
  aucRocOvr,
  binaryAucByRank,
  confusionMatrix,
  crossEntropy,
  macroF1,
  orderByScore,
  orderPaths,
  perClassMetrics,
} from '../../src/metrics/classification.ts';
import { Rng } from '../../src/random/rng.ts';

const close = (actual: number, expected: number, tol = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

// 3 classes, 10 examples. Confusion (rows true, cols pred): [[2,1,1],[1,2,0],[0,1,2]].
const Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
const Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];

test('confusionMatrix puts true classes on rows and predictions on columns', () => {
  assert.deepEqual(confusionMatrix(Y_TRUE, Y_PRED, 3), [
    [2, 1, 1],
    [1, 2, 0],
    [0, 1, 2],
  ]);
});

test('accuracy, per-class precision/recall/F1 and macro-F1 match hand values', () => {
  const conf = confusionMatrix(Y_TRUE, Y_PRED, 3);
  close(accuracyFromConfusion(conf), 0.6);
  const m = perClassMetrics(conf);
  // class 0: tp 2, predicted 3, support 4 → P 2/3, R 1/2, F1 4/7
  close(m[0]!.precision, 2 / 3);
  close(m[0]!.recall, 1 / 2);
  close(m[0]!.f1, 4 / 7);
  assert.equal(m[0]!.support, 4);
  // class 1: tp 2, predicted 4, support 3 → P 1/2, R 2/3, F1 4/7
  close(m[1]!.precision, 1 / 2);
  close(m[1]!.recall, 2 / 3);
  close(m[1]!.f1, 4 / 7);
  // class 2: tp 2, predicted 3, support 3 → P = R = F1 = 2/3
  close(m[2]!.f1, 2 / 3);
  assert.equal(m[2]!.support, 3);
  close(macroF1(conf), 38 / 63); // (4/7 + 4/7 + 2/3) / 3
});

test('undefined ratios are 0 and classes absent from labels and predictions are left out', () => {
  // Class 1 is present but never predicted; class 2 is neither present nor predicted.
  const conf = confusionMatrix([0, 0, 1], [0, 0, 0], 3);
  const m = perClassMetrics(conf);
  assert.deepEqual(m[1], { precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(m[2], { precision: 0, recall: 0, f1: 0, support: 0 });
  // class 0: P 2/3, R 1 → F1 0.8; macro over classes {0, 1} as sklearn's default labels.
  close(macroF1(conf), 0.4);
});

test('confusionMatrix rejects labels outside the classes and length mismatches', () => {
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), InputError);
  assert.throws(() => confusionMatrix([0, 1.5], [0, 1], 3), InputError);
  assert.throws(() => confusionMatrix([0], [0, 1], 3), InputError);
});

test('argmaxRows takes the first maximum on ties', () => {
  const probs = new Float32Array([0.1, 0.7, 0.2, 0.4, 0.2, 0.4, 0, 0, 1]);
  assert.deepEqual([...argmaxRows(probs, 3)], [1, 0, 2]);
  assert.throws(() => argmaxRows(new Float32Array(5), 3), InputError);
});

test('crossEntropy is the mean negative log probability, clipped like Keras', () => {
  const probs = new Float32Array([0.8, 0.2, 0.4, 0.6]);
  close(crossEntropy([0, 1], probs, 2), (-Math.log(0.8) - Math.log(0.6)) / 2, 1e-6);
  const extreme = new Float32Array([0, 1, 1, 0]);
  close(crossEntropy([0, 0], extreme, 2), (-Math.log(1e-7) - Math.log(1 - 1e-7)) / 2, 1e-9);
});

test('binary AUC with tied scores uses average ranks (7/9 by counting pairs)', () => {
  // pos scores 0.9, 0.5, 0.3; neg 0.5, 0.3, 0.1 → pairs won 3 + 2.5 + 1.5 = 7 of 9.
  const scores = new Float64Array([0.9, 0.5, 0.5, 0.3, 0.3, 0.1]);
  const labels = [1, 1, 0, 0, 1, 0];
  close(binaryAucByRank(labels, 1, scores), 7 / 9);
  // Two-class OvR: class 0 scored by 1 − s is the mirror image, so the macro mean is also 7/9.
  const probs = new Float32Array([...scores].flatMap((s) => [1 - s, s]));
  close(aucRocOvr(labels, probs, 2), 7 / 9, 1e-7);
});

test('multi-class OvR AUC averages per-class AUCs (65/72 by hand)', () => {
  const probs = new Float32Array([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.2, 0.2, 0.6, 0.6, 0.1, 0.3]);
  // class 0: 2.5/3; class 1: 3/3; class 2: 3.5/4 → (5/6 + 1 + 7/8) / 3
  close(aucRocOvr([0, 1, 2, 2], probs, 3), 65 / 72, 1e-7);
});

test('classes with no positives are skipped; NaN when none remain', () => {
  const probs = new Float32Array([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.7, 0.2, 0.1]);
  // class 2 never occurs: mean of class 0 (pos 0.6, 0.7 vs neg 0.2 → 1) and class 1 (0.5 vs 0.3, 0.2 → 1)
  close(aucRocOvr([0, 1, 0], probs, 3), 1);
  assert.ok(Number.isNaN(aucRocOvr([1, 1], new Float32Array([0.2, 0.8, 0.4, 0.6]), 2)));
  assert.ok(Number.isNaN(aucRocOvr([0, 1], new Float32Array([NaN, 0.5, 0.5, 0.5]), 2)));
});

test('rank AUC equals brute-force pair counting on random tied scores', () => {
  const rng = new Rng(7);
  const n = 300;
  const labels = Array.from({ length: n }, () => rng.int(2));
  const scores = Float64Array.from({ length: n }, () => rng.int(20) / 20);
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs += 1;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  close(binaryAucByRank(labels, 1, scores), wins / pairs, 1e-12);
});

test('AUC on 70,000 × 10 runs in well under a few seconds (O(N log N) per class)', () => {
  const rng = new Rng(1);
  const n = 70_000;
  const k = 10;
  const labels = Int32Array.from({ length: n }, () => rng.int(k));
  const probs = Float32Array.from({ length: n * k }, () => rng.next());
  const start = performance.now();
  const auc = aucRocOvr(labels, probs, k);
  const ms = performance.now() - start;
  close(auc, 0.5, 0.02); // random scores
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

test('orderByScore: a stable sort by score, ties in index order, −0 = 0, either direction; non-float32 scores too', () => {
  const rng = new Rng(11);
  const stable = (scores: ArrayLike<number>, descending: boolean): number[] =>
    Array.from({ length: scores.length }, (_, i) => i).sort(
      (a, b) => (descending ? scores[b]! - scores[a]! : scores[a]! - scores[b]!) || a - b,
    );
  // Float32 values with many ties (quantized), negatives, ±0 and extremes: the packed-key path.
  const f32 = Float64Array.from({ length: 3000 }, (_, i) =>
    i % 97 === 0
      ? i % 2
        ? -0
        : 0
      : i % 89 === 0
        ? Math.fround(-3.4e38)
        : Math.fround(Math.round(rng.normal() * 8) / 8),
  );
  // Doubles that are not float32 values: the comparator path.
  const f64 = Float64Array.from({ length: 500 }, () => Math.round(rng.normal() * 4) / 4 + 1e-12);
  for (const [scores, path] of [
    [f32, 'packed'],
    [f64, 'comparator'],
    [new Float64Array(0), 'packed'],
    [Float64Array.of(0.5), 'packed'],
  ] as const) {
    for (const descending of [false, true]) {
      const before = orderPaths[path];
      assert.deepEqual(Array.from(orderByScore(scores, descending)), stable(scores, descending));
      assert.equal(orderPaths[path], before + 1, `the ${path} path ran`);
    }
  }
});
