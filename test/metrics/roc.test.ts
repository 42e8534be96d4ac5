// ROC curve points worked by hand: thresholds from the top score down, ties together, collinear
// points dropped, and thinning that never loses more than one step of the curve.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropCollinear, rocCurves, rocPoints, thinCurve } from '../../src/metrics/roc.ts';

describe('rocPoints', () => {
  it('walks thresholds from the highest score down', () => {
    // desc: 0.9 pos → (0, .5); 0.8 neg → (.5, .5); 0.7 pos → (.5, 1); 0.1 neg → (1, 1)
    const r = rocPoints([1, 0, 1, 0], 1, [0.9, 0.8, 0.7, 0.1]);
    assert.deepEqual(r, { fpr: [0, 0, 0.5, 0.5, 1], tpr: [0, 0.5, 0.5, 1, 1] });
  });
  it('moves tied scores together (one diagonal step, not a staircase)', () => {
    assert.deepEqual(rocPoints([1, 0], 1, [0.5, 0.5]), { fpr: [0, 1], tpr: [0, 1] });
  });
  it('drops points on a straight segment', () => {
    // (0,0) (0,.5) (0,1) (.5,1) (1,1): the middle points of each straight run go
    assert.deepEqual(rocPoints([1, 1, 0, 0], 1, [0.9, 0.8, 0.7, 0.6]), { fpr: [0, 0, 1], tpr: [0, 1, 1] });
  });
  it('is null without positives or without negatives', () => {
    assert.equal(rocPoints([0, 0], 1, [0.1, 0.2]), null);
    assert.equal(rocPoints([1, 1], 1, [0.1, 0.2]), null);
  });
});

describe('dropCollinear', () => {
  it('keeps corners and both ends', () => {
    assert.deepEqual(dropCollinear([0, 0.25, 0.5, 0.5, 1], [0, 0.25, 0.5, 1, 1]), {
      fpr: [0, 0.5, 0.5, 1],
      tpr: [0, 0.5, 1, 1],
    });
  });
});

describe('thinCurve', () => {
  it('keeps at most maxPoints, both ends, and no gap wider than one step', () => {
    const n = 1001;
    // a concave curve tpr = sqrt(fpr) sampled finely
    const fpr = Array.from({ length: n }, (_, i) => i / (n - 1));
    const tpr = fpr.map((x) => Math.sqrt(x));
    const thin = thinCurve(fpr, tpr, 50);
    assert.ok(thin.fpr.length <= 50 && thin.fpr.length >= 40, `${thin.fpr.length} points`);
    assert.deepEqual([thin.fpr[0], thin.tpr[0], thin.fpr.at(-1), thin.tpr.at(-1)], [0, 0, 1, 1]);
    for (let i = 1; i < thin.fpr.length; i++) {
      const gap = thin.fpr[i]! + thin.tpr[i]! - thin.fpr[i - 1]! - thin.tpr[i - 1]!;
      // one step of 2/49 plus the spacing of the input (the first point past a step)
      assert.ok(gap <= 2 / 49 + 0.04, `gap ${gap} at ${i}`);
    }
  });
  it('leaves short curves alone', () => {
    assert.deepEqual(thinCurve([0, 1], [0, 1], 10), { fpr: [0, 1], tpr: [0, 1] });
  });
});

describe('rocCurves', () => {
  it('gives one curve per class with both sides, with the exact AUC', () => {
    // 3 classes; class 2 never occurs, so it has no curve
    const y = [0, 1, 0, 1];
    const probs = new Float32Array([0.9, 0.1, 0, 0.8, 0.2, 0, 0.7, 0.3, 0, 0.1, 0.9, 0]);
    const curves = rocCurves(y, probs, 3);
    assert.deepEqual(
      curves.map((c) => c.classIndex),
      [0, 1],
    );
    // class 0 scores: 0.9 (0) 0.8 (1) 0.7 (0) 0.1 (1): pairs (pos>neg) 0.9>0.8, 0.9>0.1, 0.7>0.1 of 4 → 0.75
    assert.equal(curves[0]!.auc, 0.75);
    assert.deepEqual(curves[0]!.fpr, [0, 0, 0.5, 0.5, 1]);
    assert.deepEqual(curves[0]!.tpr, [0, 0.5, 0.5, 1, 1]);
  });
});
