// `mtl train configs/multimnist-hps.yaml --set multitask.weighting=pcgrad` in this process (trainCommand,
// so the kernel-call counters can be read): PCGrad's per-task gradients take the fused MultiLeNet
// kernel (MtlCnnTaskGrads, once per step), its test accuracies are those of the generic path
// (MTL_FUSED=0) up to float rounding, and two runs leave the same weights and Adam moments bit for bit.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { trainCommand } from '../../../src/cli/train.ts';
import { kernelCalls } from '../../../src/engine/kernels/calls.ts';
import type { MultiTaskExperimentResult } from '../../../src/train/multitask/baselines.ts';
import type { MultiTaskSummary } from '../../../src/train/multitask/summary.ts';

const savedFused = process.env.MTL_FUSED;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (savedFused === undefined) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = savedFused;
});

// Enough to learn something (~30% test accuracy, chance 10%), so the accuracies compared mean something.
const LIMIT = 2000;
const EPOCHS = 3;

async function pcgrad(fused: boolean): Promise<{ summary: MultiTaskSummary; taskGrads: number; weights: Buffer[] }> {
  if (fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  const runsDir = mkdtempSync(join(tmpdir(), 'mtl-pertask-'));
  dirs.push(runsDir);
  const before = kernelCalls.get('MtlCnnTaskGrads') ?? 0;
  try {
    const r = (await trainCommand(
      'configs/multimnist-hps.yaml',
      { set: ['multitask.weighting=pcgrad'], limit: LIMIT, epochs: EPOCHS, runsDir },
      [],
    )) as MultiTaskExperimentResult;
    const summary = r.runs[0]!;
    assert.equal(summary.status, 'completed');
    const last = join(summary.runDir, 'checkpoints', 'last');
    return {
      summary,
      taskGrads: (kernelCalls.get('MtlCnnTaskGrads') ?? 0) - before,
      weights: ['weights.bin', 'optimizer.bin'].map((f) => readFileSync(join(last, f))),
    };
  } finally {
    delete process.env.MTL_FUSED;
  }
}

test('MultiMNIST PCGrad: fused per-task gradients once per step, accuracies as the generic path, bit-repeatable', async () => {
  const generic = await pcgrad(false);
  assert.equal(generic.taskGrads, 0, 'MTL_FUSED=0: the generic per-task gradients');
  const fused = await pcgrad(true);
  const steps = Math.ceil(fused.summary.data.groups[0]!.train / 256);
  assert.equal(fused.taskGrads, EPOCHS * steps, 'one MtlCnnTaskGrads call per step');
  for (const task of ['left', 'right'])
    assert.ok(fused.summary.tasks[task]!.test.accuracy > 0.2, `${task} learns (chance 0.1)`);
  for (const task of ['left', 'right']) {
    const [g, f] = [generic, fused].map((r) => r.summary.tasks[task]!.test);
    assert.ok(Math.abs(g!.accuracy - f!.accuracy) <= 0.01, `${task} test accuracy ${g!.accuracy} vs ${f!.accuracy}`);
    assert.ok(Math.abs(g!.loss - f!.loss) <= 1e-3 * g!.loss, `${task} test loss ${g!.loss} vs ${f!.loss}`);
  }
  const again = await pcgrad(true);
  assert.ok(again.weights[0]!.equals(fused.weights[0]!), 'the same weights, bit for bit');
  assert.ok(again.weights[1]!.equals(fused.weights[1]!), 'the same Adam moments, bit for bit');
});
