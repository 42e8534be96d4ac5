// Memory over a long run, in-process: tf.memory().numTensors is the same at every epoch end of a
// 30-epoch run and of the same run stopped at epoch 10 and resumed in the same process, and the
// resident set, sampled after a full GC, stays within 20 MB. The figures are printed as test diagnostics.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../../src/config/load.ts';
import { type BackendInfo, initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { resumeRun } from '../../src/resume/resume-run.ts';
import type { LoopCallbacks } from '../../src/train/loop.ts';
import { runSingleTask } from '../../src/train/single/experiment.ts';
import { tempDir } from '../e2e/helpers.ts';
import { assertSameRun } from './helpers.ts';

const EPOCHS = 30;
const runs = tempDir('mtl-rel-memory-');
let backend: BackendInfo;
before(async () => {
  backend = await initBackend('wasm');
});
after(() => rmSync(runs, { recursive: true, force: true }));

interface Sample {
  epoch: number;
  tensors: number;
  rssMB: number;
}

// A full garbage collection before each RSS sample, so the samples follow live memory rather than
// when V8 chose to collect (without it RSS saws up ~4 MB an epoch and drops by up to 60 MB at a major GC).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function sampler(into: Sample[]): LoopCallbacks {
  return {
    onEpochEnd: (r) => {
      gc();
      into.push({ epoch: r.epoch, tensors: tf.memory().numTensors, rssMB: process.memoryUsage().rss / 2 ** 20 });
    },
  };
}

test(`numTensors flat and RSS bounded over ${EPOCHS} epochs, through an in-process resume too`, async (t) => {
  const { config } = loadConfig('configs/mnist-mlp.yaml', ['model.dropout=0.2'], { limit: 500, epochs: EPOCHS });
  const whole: Sample[] = [];
  const ctx = { runsDir: runs, argv: ['test'], backend };
  const done = await runSingleTask(config, { ...ctx, callbacks: sampler(whole) });
  assert.equal(done.status, 'completed');
  assert.equal(whole.length, EPOCHS);
  const counts = new Set(whole.slice(1).map((s) => s.tensors));
  assert.equal(counts.size, 1, `tensor counts from epoch 2 on: ${[...counts].join(', ')}`);
  const growth = whole.at(-1)!.rssMB - whole[4]!.rssMB;
  t.diagnostic(
    `numTensors ${whole[0]!.tensors} after epoch 1, ${whole[1]!.tensors} at every epoch end from 2 to ${EPOCHS}; ` +
      `RSS ${whole[4]!.rssMB.toFixed(0)} MB after epoch 5, ${whole.at(-1)!.rssMB.toFixed(0)} MB after epoch ${EPOCHS} ` +
      `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`,
  );
  t.diagnostic(`RSS by epoch: ${whole.map((s) => s.rssMB.toFixed(0)).join(' ')}`);
  assert.ok(growth < 20, `RSS grew ${growth.toFixed(1)} MB over epochs 5-${EPOCHS}`);

  const split: Sample[] = [];
  const stopped = await runSingleTask(config, {
    ...ctx,
    callbacks: sampler(split),
    shouldStop: () => split.length >= 10,
  });
  assert.equal(stopped.status, 'interrupted');
  const outcome = await resumeRun(
    { ref: stopped.runDir, runsDir: runs, force: false },
    { progress: () => sampler(split) },
  );
  assert.equal(outcome.state, 'resumed');
  assert.deepEqual(
    split.map((s) => s.tensors),
    whole.map((s) => s.tensors),
    'the resumed epochs hold as many tensors as the uninterrupted ones',
  );
  assertSameRun(stopped.runDir, done.runDir);
});
