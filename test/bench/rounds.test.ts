// --rounds: how a workload's rounds pool into one result, and how a peer's ratio is paired round by
// round (the CLI run with a real PyTorch peer is in cli.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairRounds, poolRounds } from '../../src/bench/suite.ts';
import type { PeerResult } from '../../src/bench/types.ts';
import { epochResult } from './helpers.ts';

function peer(median: number, min = median, max = median): PeerResult {
  return {
    workload: 'mnist-cnn',
    engine: 'pytorch-1.13.0',
    threads: 1,
    secondsPerEpoch: { median, min, max },
    samplesPerSecond: 1000 / median,
    accuracy: 0.99,
    ratio: null,
  };
}

test('one round is its own result, its ratio mtl ÷ peer', () => {
  const mine = epochResult('mnist-cnn', 15);
  assert.equal(poolRounds([mine]), mine);
  const p = pairRounds([mine], [peer(12)]);
  assert.equal(p.ratio, 15 / 12);
  assert.equal(p.rounds, undefined);
});

test('rounds pool to the median of their medians, min and max over all, and the median of their ratios', () => {
  const rounds = [epochResult('mnist-cnn', 15), epochResult('mnist-cnn', 14), epochResult('mnist-cnn', 18)];
  rounds[1]!.peakRssMB = 900;
  const pooled = poolRounds(rounds);
  assert.deepEqual(pooled.rounds, [15, 14, 18]);
  assert.equal(pooled.secondsPerEpoch!.median, 15);
  assert.equal(pooled.secondsPerEpoch!.min, rounds[1]!.secondsPerEpoch!.min);
  assert.equal(pooled.secondsPerEpoch!.max, rounds[2]!.secondsPerEpoch!.max);
  assert.equal(pooled.peakRssMB, 900);
  assert.equal(pooled.samplesPerSecond, pooled.samplesPerEpoch! / 15);
  // Round by round: 15/10, 14/20, 18/12 → ratios 1.5, 0.7, 1.5: the median pairs each mtl run with
  // the peer run beside it, not the pooled medians (15 / 12 = 1.25).
  const p = pairRounds(rounds, [peer(10, 9, 11), peer(20), peer(12)]);
  assert.deepEqual(
    p.rounds!.map((r) => r.ratio),
    [1.5, 0.7, 1.5],
  );
  assert.equal(p.ratio, 1.5);
  assert.equal(p.secondsPerEpoch.median, 12);
  assert.equal(p.secondsPerEpoch.min, 9);
  assert.equal(p.secondsPerEpoch.max, 20);
});
