// A table's missing labels (−1) are masked out of a task's loss and metrics: checked against the
// cross-entropy of the labelled rows computed by hand.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../../src/engine/backend/backend.ts';
import { tf } from '../../../src/engine/backend/tf.ts';
import { taskLoss } from '../../../src/train/multitask/forward.ts';
import { labelledReport, maskOf } from '../../../src/train/multitask/labelled.ts';

before(async () => {
  await initBackend('cpu', {});
});

/** −log softmax(z)[y], in float64. */
function ce(z: number[], y: number): number {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return lse - z[y]!;
}

describe('masked task loss', () => {
  const logits = [
    [2, 0, -1],
    [0.5, 0.5, 3],
    [-1, 1, 0],
  ];

  it('is the mean cross-entropy of the rows that have a label', () => {
    const value = tf.tidy(
      () => taskLoss(tf.tensor2d(logits), tf.tensor1d([0, -1, 1], 'int32'), 3, null, null, true).dataSync()[0]!,
    );
    const expected = (ce(logits[0]!, 0) + ce(logits[2]!, 1)) / 2;
    assert.ok(Math.abs(value - expected) < 1e-5, `${value} vs ${expected}`);
    // Unmasked, a −1 row would still count in the mean (its one-hot is all zeros): a different number.
    const unmasked = tf.tidy(
      () => taskLoss(tf.tensor2d(logits), tf.tensor1d([0, -1, 1], 'int32'), 3, null, null).dataSync()[0]!,
    );
    assert.ok(Math.abs(unmasked - (2 / 3) * expected) < 1e-5);
  });

  it('is 0, not NaN, for a batch with no label at all', () => {
    const value = tf.tidy(
      () => taskLoss(tf.tensor2d(logits), tf.tensor1d([-1, -1, -1], 'int32'), 3, null, null, true).dataSync()[0]!,
    );
    assert.equal(value, 0);
  });

  it('scores only labelled rows', () => {
    const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.3, 0.7]);
    const r = labelledReport(Int32Array.from([0, -1, 0]), probs, 2);
    assert.equal(r.accuracy, 0.5, 'row 0 right, row 2 wrong, row 1 not counted');
    assert.equal(maskOf(Int32Array.from([0, 1])), undefined);
    assert.ok(maskOf(Int32Array.from([0, -1])));
  });
});
