// The shared loop on a tiny synthetic problem: it learns, keeps tensor counts flat, selects and
// restores the best epoch, stops early, and regularization / L2 changes the objective.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { buildModel } from '../../src/models/build.ts';
import { Rng } from '../../src/random/rng.ts';
import { type LoopProgram, runLoop } from '../../src/train/loop.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { regularizationPenalty } from '../../src/train/regularization.ts';
import { createClassifierProgram, predictProbs } from '../../src/train/single/classifier.ts';

before(async () => {
  await initBackend('wasm');
});

/** Three Gaussian blobs in 4-D, linearly separable enough for a small MLP. */
function blobs(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor1D; n: number } {
  const rng = new Rng(seed);
  const xs = new Float32Array(n * 4);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    ys[i] = c;
    for (let f = 0; f < 4; f++) xs[i * 4 + f] = (f === c ? 2.5 : 0) + rng.normal() * 0.7;
  }
  return { x: tf.tensor2d(xs, [n, 4]), y: tf.tensor1d(ys, 'int32'), n };
}

function makeProgram(seed = 1) {
  const cfg = defaultConfig('t');
  const built = buildModel(
    { type: 'mlp', hidden: [16], activation: 'relu', dropout: 0 },
    { imageShape: [1, 1, 4], numClasses: 3, rng: new Rng(seed) },
  );
  const layers = built.model.layers.filter((l) => l.trainableWeights.length > 0);
  const program = createClassifierProgram({
    model: built.model,
    train: blobs(300, 2),
    val: blobs(90, 3),
    numClasses: 3,
    batchSize: 32,
    groups: [{ name: 'all', layers, optimizer: createOptimizer({ ...cfg.trainer.optimizer, lr: 0.01 }), lrScale: 1 }],
    regularization: { l1: 0, l2: 0 },
    rng: new Rng(seed),
    scoreValidation: (probs, labels) => {
      let correct = 0;
      for (let i = 0; i < labels.length; i++) {
        const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
        if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
      }
      return { metrics: { accuracy: correct / labels.length }, monitor: correct / labels.length };
    },
  });
  return { built, program };
}

const loopOptions = (epochs: number) => ({
  epochs,
  baseLr: 0.01,
  schedule: defaultConfig('t').trainer.schedule,
  monitor: 'val.accuracy' as const,
  earlyStopping: { patience: null, minDelta: 0 },
});

test('learns the blobs and keeps tf.memory().numTensors flat across epochs', async () => {
  const { program } = makeProgram();
  const counts: number[] = [];
  const result = await runLoop(program, {
    ...loopOptions(6),
    callbacks: {
      onEpochEnd: () => {
        counts.push(tf.memory().numTensors);
      },
    },
  });
  assert.equal(result.history.length, 6);
  assert.ok(result.history[5]!.train.loss < result.history[0]!.train.loss, 'loss decreases');
  assert.ok((result.history[5]!.val as { accuracy: number }).accuracy > 0.9, 'val accuracy > 0.9');
  assert.ok(
    counts.slice(1).every((c) => c === counts[1]),
    `numTensors per epoch: ${counts.join(',')}`,
  );
});

test('restores the weights of the best epoch, not the last', async () => {
  // A program whose validation score peaks at epoch 2: the loop must hand back epoch 2's weights.
  const { built, program } = makeProgram();
  const scores = [0.5, 0.9, 0.6, 0.7];
  let epoch = 0;
  let atBest: Float32Array | null = null;
  const wrapped: LoopProgram = {
    ...program,
    beginEpoch: (e) => {
      epoch = e;
      program.beginEpoch(e);
    },
    validate: async () => {
      if (epoch === 2) atBest = built.model.getWeights()[0]!.dataSync().slice() as Float32Array;
      return { metrics: {}, monitor: scores[epoch - 1]! };
    },
  };
  const result = await runLoop(wrapped, loopOptions(4));
  assert.equal(result.bestEpoch, 2);
  assert.deepEqual(built.model.getWeights()[0]!.dataSync(), atBest);
});

test('an exact tie of the monitor goes to the epoch with the lower validation loss', async () => {
  // Accuracy ties at epochs 2, 3 and 4; epoch 4 has the lowest tie-break (loss), epoch 3 a higher one.
  const { program } = makeProgram();
  const scores = [0.5, 0.9, 0.9, 0.9, 0.8];
  const losses = [0.9, 0.3, 0.35, 0.2, 0.1];
  let epoch = 0;
  const wrapped: LoopProgram = {
    ...program,
    beginEpoch: (e) => {
      epoch = e;
      program.beginEpoch(e);
    },
    validate: async () => ({ metrics: {}, monitor: scores[epoch - 1]!, tieBreak: losses[epoch - 1]! }),
  };
  const improved: boolean[] = [];
  const result = await runLoop(wrapped, {
    ...loopOptions(5),
    callbacks: {
      onEpochEnd: (_r, i) => {
        improved.push(i);
      },
    },
  });
  assert.equal(result.bestEpoch, 4);
  assert.deepEqual(improved, [true, true, false, true, false]);
  // Without a tie-break the earliest of the tied epochs stays best (Keras's strict comparison).
  const plain: LoopProgram = { ...wrapped, validate: async () => ({ metrics: {}, monitor: scores[epoch - 1]! }) };
  assert.equal((await runLoop(plain, loopOptions(5))).bestEpoch, 2);
});

test('early stopping ends after `patience` epochs without improvement', async () => {
  const { program } = makeProgram();
  const scores = [0.5, 0.6, 0.6, 0.55, 0.9, 0.95];
  let epoch = 0;
  const wrapped: LoopProgram = {
    ...program,
    beginEpoch: (e) => {
      epoch = e;
      program.beginEpoch(e);
    },
    validate: async () => ({ metrics: {}, monitor: scores[epoch - 1]! }),
  };
  const result = await runLoop(wrapped, { ...loopOptions(6), earlyStopping: { patience: 2, minDelta: 0 } });
  assert.equal(result.stoppedEarly, true);
  assert.equal(result.history.length, 4);
  assert.equal(result.bestEpoch, 2);
});

test('the same seed gives bit-identical training; predictions have rows summing to 1', async () => {
  const run = async (): Promise<number[]> => {
    const { built, program } = makeProgram(5);
    const r = await runLoop(program, loopOptions(2));
    return [...r.history.map((h) => h.train.loss), ...built.model.getWeights()[0]!.dataSync()];
  };
  assert.deepEqual(await run(), await run());
  const { built } = makeProgram();
  const probs = predictProbs(built.model, blobs(10, 9).x);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(probs[i * 3]! + probs[i * 3 + 1]! + probs[i * 3 + 2]! - 1) < 1e-5);
});

test('L1/L2 penalty equals λ1Σ|w| + λ2Σw² by hand', () => {
  const k = tf.tensor2d([
    [1, -2],
    [3, 0],
  ]);
  const p = regularizationPenalty([k], { l1: 0.1, l2: 0.01 })!;
  assert.ok(Math.abs(p.dataSync()[0]! - (0.1 * 6 + 0.01 * 14)) < 1e-6);
  assert.equal(regularizationPenalty([k], { l1: 0, l2: 0 }), null);
});
