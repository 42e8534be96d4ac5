// The shared loop's resume and NaN guard: a loop resumed from the state it reported after epoch k
// runs the same remaining epochs with the same best epoch, early stop and LR steps; a non-finite loss
// stops it naming the epoch and step, whether progress reads find it mid-epoch or the epoch-end read.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { NonFiniteLossError } from '../../src/errors.ts';
import { type EpochRecord, type LoopOptions, type LoopProgram, type LoopState, runLoop } from '../../src/train/loop.ts';

before(async () => {
  await initBackend('wasm');
});

/** A program whose validation monitor follows `monitors` and whose loss at (epoch, step) is `lossAt`. */
function fakeProgram(monitors: number[], lossAt: (epoch: number, step: number) => number): LoopProgram {
  let epoch = 0;
  let step = 0;
  return {
    stepsPerEpoch: 6,
    beginEpoch: (e) => {
      epoch = e;
      step = 0;
    },
    step: () => {
      step++;
      return { loss: tf.scalar(lossAt(epoch, step)), correct: null, count: 2 };
    },
    validate: async () => ({ metrics: { accuracy: monitors[epoch - 1]! }, monitor: monitors[epoch - 1]! }),
    captureBest: () => {},
    restoreBest: () => {},
  };
}

function options(o: Partial<LoopOptions> = {}): LoopOptions {
  const cfg = defaultConfig('t').trainer;
  return {
    epochs: 8,
    baseLr: 0.1,
    schedule: { ...cfg.schedule, name: 'cosine' },
    monitor: 'val.accuracy',
    earlyStopping: { ...cfg.earlyStopping, patience: 3 },
    ...o,
  };
}

test('resumed from epoch k, the loop finishes exactly as the uninterrupted one', async () => {
  const monitors = [0.5, 0.6, 0.6, 0.7, 0.65, 0.64, 0.66, 0.9];
  const loss = () => 1;
  const states: LoopState[] = [];
  const whole = await runLoop(fakeProgram(monitors, loss), {
    ...options(),
    callbacks: { onEpochEnd: (_r, _i, s) => void states.push(s) },
  });
  assert.equal(whole.stoppedEarly, true, 'patience 3 stops it after epoch 7');
  assert.deepEqual(
    states.map((s) => [s.epoch, s.bestEpoch, s.sinceBest]),
    [
      [1, 1, 0],
      [2, 2, 0],
      [3, 2, 1],
      [4, 4, 0],
      [5, 4, 1],
      [6, 4, 2],
      [7, 4, 3],
    ],
  );
  const strip = (h: EpochRecord[]) => h.map(({ seconds: _s, ...r }) => r);
  for (let k = 1; k <= 7; k++) {
    const resumed = await runLoop(fakeProgram(monitors, loss), {
      ...options(),
      resume: { state: states[k - 1]!, history: whole.history.slice(0, k) },
    });
    assert.deepEqual(strip(resumed.history), strip(whole.history), `resumed after epoch ${k}`);
    assert.equal(resumed.bestEpoch, whole.bestEpoch);
    assert.equal(resumed.stoppedEarly, true);
  }
});

test('a NaN loss stops the run at once, naming epoch and step (found by a progress read)', async () => {
  const ends: number[] = [];
  const batches: number[] = [];
  const err = await runLoop(
    fakeProgram([0.5, 0.6, 0.7], (e, s) => (e === 2 && s === 3 ? Number.NaN : 1)),
    {
      ...options({ epochs: 3 }),
      progressEvery: 2,
      callbacks: {
        onEpochEnd: (r) => void ends.push(r.epoch),
        onBatchEnd: (b) => void batches.push(b.epoch * 10 + b.step),
      },
    },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof NonFiniteLossError, String(err));
  assert.equal(err.message.split(':')[0], 'loss became NaN at epoch 2, step 3');
  assert.equal(err.exitCode, 1);
  assert.deepEqual(ends, [1], 'epoch 2 is never recorded or checkpointed');
  assert.deepEqual(batches, [12, 14, 16, 22], 'stopped at the first read after the NaN (step 4), not at the epoch end');
});

test('an infinite loss is found by the epoch-end read when nothing reads progress', async () => {
  const before = tf.memory().numTensors;
  const err = await runLoop(
    fakeProgram([0.5], (_e, s) => (s === 5 ? Number.POSITIVE_INFINITY : 1)),
    {
      ...options({ epochs: 1 }),
    },
  ).catch((e: unknown) => e);
  assert.ok(err instanceof NonFiniteLossError, String(err));
  assert.match(err.message, /^loss became infinite at epoch 1, step 5:/);
  assert.equal(tf.memory().numTensors, before, 'the kept running sums are freed on the way out');
});
