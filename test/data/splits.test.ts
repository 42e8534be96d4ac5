import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  carves,
  carveValidation,
  labelCounts,
  sampleSplit,
  splitValidation,
  stratifiedSplit,
  subsetSplit,
} from '../../src/data/splits.ts';
import type { Split } from '../../src/data/types.ts';
import { Rng } from '../../src/random/rng.ts';

/** Labels grouped by class (like the Fashion-MNIST package): `perClass` of each of `k` classes. */
function groupedLabels(k: number, perClass: number): Uint8Array {
  const y = new Uint8Array(k * perClass);
  for (let c = 0; c < k; c++) y.fill(c, c * perClass, (c + 1) * perClass);
  return y;
}

/** n examples of 3 features; example i holds [i, i+1, i+2] mod 256 and label i % 5. */
function toySplit(n: number): Split {
  const x = new Uint8Array(n * 3).map((_, k) => (Math.floor(k / 3) + (k % 3)) % 256);
  const y = new Uint8Array(n).map((_, i) => i % 5);
  return { x, y, n };
}

test('stratifiedSplit takes exact per-class counts, disjoint, classes interleaved', () => {
  const labels = groupedLabels(4, 70);
  const { train, test: held } = stratifiedSplit(labels, { train: 60, test: 10 }, 7);
  assert.equal(train.length, 240);
  assert.equal(held.length, 40);
  assert.deepEqual(
    labelCounts(
      Array.from(train, (i) => labels[i]!),
      4,
    ),
    [60, 60, 60, 60],
  );
  assert.deepEqual(
    labelCounts(
      Array.from(held, (i) => labels[i]!),
      4,
    ),
    [10, 10, 10, 10],
  );
  assert.equal(new Set([...train, ...held]).size, 280, 'train and test are disjoint');
  const firstTwenty = new Set(Array.from(train.subarray(0, 20), (i) => labels[i]));
  assert.ok(firstTwenty.size > 1, 'order is a seeded shuffle, not grouped by class');
});

test('stratifiedSplit is deterministic in its seed and only its seed', () => {
  const labels = groupedLabels(3, 50);
  const a = stratifiedSplit(labels, { train: 40, test: 10 }, 20170825);
  const b = stratifiedSplit(labels, { train: 40, test: 10 }, 20170825);
  const c = stratifiedSplit(labels, { train: 40, test: 10 }, 1);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.test, c.test);
});

test('stratifiedSplit leaves surplus examples out and rejects short classes', () => {
  const labels = groupedLabels(2, 12);
  const { train, test: held } = stratifiedSplit(labels, { train: 5, test: 2 }, 3);
  assert.equal(train.length + held.length, 14);
  assert.throws(() => stratifiedSplit(labels, { train: 10, test: 3 }, 3), /class 0 has 12 examples, needs 13/);
});

test('subsetSplit copies rows in the given order', () => {
  const s = subsetSplit(toySplit(10), [7, 2]);
  assert.equal(s.n, 2);
  assert.deepEqual(Array.from(s.x), [7, 8, 9, 2, 3, 4]);
  assert.deepEqual(Array.from(s.y), [2, 2]);
});

test('splitValidation: sizes, disjoint cover, determinism and seed dependence', () => {
  const split = toySplit(200);
  const a = splitValidation(split, 0.25, new Rng(42));
  const b = splitValidation(split, 0.25, new Rng(42));
  const c = splitValidation(split, 0.25, new Rng(43));
  assert.equal(a.val.n, 50);
  assert.equal(a.train.n, 150);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.val.x, c.val.x);
  const ids = [...a.train.x.filter((_, k) => k % 3 === 0), ...a.val.x.filter((_, k) => k % 3 === 0)];
  assert.equal(new Set(ids).size, 200, 'every example lands in exactly one part');
  const none = splitValidation(split, 0, new Rng(42));
  assert.equal(none.val.n, 0);
  assert.equal(none.val.x.length, 0);
  assert.deepEqual(none.train, split);
  assert.throws(() => splitValidation(split, 1, new Rng(1)), /validation fraction/);
});

test('carveValidation: splitValidation with the seed, the last carve of the same arrays reused', () => {
  const split = toySplit(120);
  const made = (): [number, number] => [carves.made, carves.reused];
  const start = made();
  const a = carveValidation(split, 0.25, 9);
  assert.deepEqual(a, splitValidation(split, 0.25, new Rng(9)));
  // Same arrays (a new split object, as a trial host's cache read returns), fraction and seed: reused.
  const b = carveValidation({ ...split }, 0.25, 9);
  assert.deepEqual(b, a);
  assert.equal(b.train.x, a.train.x, 'the arrays are shared');
  assert.notEqual(b.train, a.train, 'in split objects of their own');
  assert.deepEqual(made(), [start[0] + 1, start[1] + 1]);
  // Another seed, fraction or data set is carved afresh.
  assert.deepEqual(carveValidation(split, 0.25, 10), splitValidation(split, 0.25, new Rng(10)));
  assert.deepEqual(carveValidation(split, 0.2, 10), splitValidation(split, 0.2, new Rng(10)));
  const other = toySplit(120);
  assert.deepEqual(carveValidation(other, 0.2, 10), splitValidation(other, 0.2, new Rng(10)));
  assert.deepEqual(made(), [start[0] + 4, start[1] + 1]);
});

test('sampleSplit: n examples without replacement, deterministic, whole split when n >= size', () => {
  const split = toySplit(100);
  const a = sampleSplit(split, 30, new Rng(5));
  assert.equal(a.n, 30);
  assert.equal(new Set(a.x.filter((_, k) => k % 3 === 0)).size, 30, 'no example twice');
  assert.deepEqual(a, sampleSplit(split, 30, new Rng(5)));
  assert.notDeepEqual(a.x, sampleSplit(split, 30, new Rng(6)).x);
  assert.equal(sampleSplit(split, 100, new Rng(5)), split);
  assert.equal(sampleSplit(split, 1000, new Rng(5)).n, 100);
  assert.equal(sampleSplit(split, 0, new Rng(5)).n, 0);
});
