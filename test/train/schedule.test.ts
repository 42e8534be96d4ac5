// Learning-rate schedules against hand-computed values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleConfig } from '../../src/config/types.ts';
import { learningRateAt } from '../../src/train/schedule.ts';

const base: ScheduleConfig = { name: 'constant', warmupEpochs: 0, stepEpochs: 3, gamma: 0.1, minLr: 0 };
const ctx = { baseLr: 0.1, stepsPerEpoch: 10, totalEpochs: 10 };

test('constant', () => {
  assert.equal(learningRateAt(0, base, ctx), 0.1);
  assert.equal(learningRateAt(99, base, ctx), 0.1);
});

test('step decays by gamma every stepEpochs epochs', () => {
  const s = { ...base, name: 'step' as const };
  assert.equal(learningRateAt(29, s, ctx), 0.1); // epoch 2
  assert.ok(Math.abs(learningRateAt(30, s, ctx) - 0.01) < 1e-12); // epoch 3
  assert.ok(Math.abs(learningRateAt(60, s, ctx) - 0.001) < 1e-12); // epoch 6
});

test('cosine goes from base to minLr through the midpoint', () => {
  const s = { ...base, name: 'cosine' as const, minLr: 0.01 };
  assert.equal(learningRateAt(0, s, ctx), 0.1);
  assert.ok(Math.abs(learningRateAt(50, s, ctx) - 0.055) < 1e-12); // (0.1 + 0.01) / 2
  assert.ok(Math.abs(learningRateAt(100, s, ctx) - 0.01) < 1e-12);
});

test('linear warmup over warmupEpochs, then the schedule', () => {
  const s = { ...base, warmupEpochs: 1 };
  assert.ok(Math.abs(learningRateAt(0, s, ctx) - 0.01) < 1e-12); // 1/10 of base
  assert.ok(Math.abs(learningRateAt(4, s, ctx) - 0.05) < 1e-12);
  assert.equal(learningRateAt(10, s, ctx), 0.1);
});
