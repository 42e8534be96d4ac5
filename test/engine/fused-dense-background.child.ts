// Child process of fused-dense-background.test.ts: 10 fused steps on standardized data on the kernel
// runtime MTL_THREADS selects (with argument `threaded`, a step of any size takes the worker threads
// where there are any); prints the background step count, the threads, the steps on the threads and a
// sha256 of the weights.

import { createHash } from 'node:crypto';
import { defaultConfig } from '../../src/config/defaults.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { BACKGROUND_PATH, fusedDenseTuning, THREADED_PATH } from '../../src/engine/fused/dense.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { buildModel } from '../../src/models/build.ts';
import { Rng } from '../../src/random/rng.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { createClassifierProgram } from '../../src/train/single/classifier.ts';
import { CLASSES, standardized } from './background-data.ts';

const info = await initBackend('wasm');
if (process.argv[2] === 'threaded') fusedDenseTuning.threadedMacs = 0;
const data = standardized(3);
const built = buildModel(
  { type: 'mlp', hidden: [16, 8], activation: 'relu', dropout: 0 },
  { imageShape: [1, 1, data.features], numClasses: CLASSES, rng: new Rng(7) },
);
const program = createClassifierProgram({
  model: built.model,
  train: data,
  val: null,
  numClasses: CLASSES,
  batchSize: 32,
  groups: [
    {
      name: 'g0',
      layers: built.model.layers.filter((l) => l.trainableWeights.length > 0),
      lrScale: 1,
      optimizer: createOptimizer({ ...defaultConfig('t').trainer.optimizer, lr: 0.01 }),
    },
  ],
  regularization: { l1: 0, l2: 0 },
  rng: new Rng(5),
  scoreValidation: () => ({ metrics: {}, monitor: 0 }),
});
const hash = createHash('sha256');
for (let s = 0; s < 10; s++) {
  if (s % program.stepsPerEpoch === 0) program.beginEpoch(1 + s / program.stepsPerEpoch);
  const r = program.step(0.01);
  hash.update(new Uint8Array(r.loss.dataSync().buffer));
  tf.dispose([r.loss, r.correct!]);
}
for (const w of built.model.getWeights()) hash.update(new Uint8Array(w.dataSync().buffer));
console.log(
  `background steps ${kernelCalls.get(BACKGROUND_PATH) ?? 0} threads ${info.threads} threaded steps ${kernelCalls.get(THREADED_PATH) ?? 0} ${hash.digest('hex')}`,
);
