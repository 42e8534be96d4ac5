// The runner's PRNG: deterministic streams, correct ranges, real permutations, independent forks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, permutation, Rng } from '../../src/random/rng.ts';

test('same seed gives the same stream; another seed a different one', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.next()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => c.next()),
  );
});

test('next() is in [0,1) with a mean near 1/2; int(n) covers 0..n-1', () => {
  const rng = new Rng(7);
  let sum = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 20000; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
    seen.add(rng.int(10));
  }
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01, `mean ${sum / 20000}`);
  assert.deepEqual(
    [...seen].sort((p, q) => p - q),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('normal() has mean ≈ 0 and variance ≈ 1', () => {
  const rng = new Rng(3);
  const xs = Array.from({ length: 20000 }, () => rng.normal());
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});

test('permutation is a deterministic shuffle of 0..n-1', () => {
  const p = permutation(1000, new Rng(1));
  assert.deepEqual(
    [...p].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(p, permutation(1000, new Rng(1)));
  assert.notDeepEqual(p, permutation(1000, new Rng(2)));
  assert.ok(
    p.some((v, i) => v !== i),
    'not the identity',
  );
});

test('deriveSeed separates labels and seeds; fork gives an independent stream', () => {
  assert.notEqual(deriveSeed(42, 'val-split'), deriveSeed(42, 'limit'));
  assert.notEqual(deriveSeed(42, 'val-split'), deriveSeed(43, 'val-split'));
  assert.equal(deriveSeed(42, 'x'), deriveSeed(42, 'x'));
  const parent = new Rng(5);
  const child = parent.fork('a');
  assert.notEqual(child.next(), new Rng(5).next());
});
