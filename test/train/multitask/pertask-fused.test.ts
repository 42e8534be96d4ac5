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

interface Trained {
  summary: MultiTaskSummary;
  /** MtlCnnTaskGrads and MtlCnnStep calls during the run. */
  taskGrads: number;
  steps: number;
  weights: Buffer[];
}

async function train(fused: boolean, weighting = 'pcgrad', normalize = 'none'): Promise<Trained> {
  if (fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  const runsDir = mkdtempSync(join(tmpdir(), 'mtl-pertask-'));
  dirs.push(runsDir);
  const calls = (): number[] => ['MtlCnnTaskGrads', 'MtlCnnStep'].map((k) => kernelCalls.get(k) ?? 0);
  const before = calls();
  try {
    const r = (await trainCommand(
      'configs/multimnist-hps.yaml',
      {
        set: [`multitask.weighting=${weighting}`, `multitask.normalizeLosses=${normalize}`],
        limit: LIMIT,
        epochs: EPOCHS,
        runsDir,
      },
      [],
    )) as MultiTaskExperimentResult;
    const summary = r.runs[0]!;
    assert.equal(summary.status, 'completed');
    const last = join(summary.runDir, 'checkpoints', 'last');
    const [taskGrads, steps] = calls().map((n, i) => n - before[i]!) as [number, number];
    return {
      summary,
      taskGrads,
      steps,
      weights: ['weights.bin', 'optimizer.bin'].map((f) => readFileSync(join(last, f))),
    };
  } finally {
    delete process.env.MTL_FUSED;
  }
}

/** Test accuracies within 1 point and test losses within 0.1% of the generic path's. */
function assertSameResults(generic: Trained, fused: Trained, what: string): void {
  for (const task of ['left', 'right']) {
    const [g, f] = [generic, fused].map((r) => r.summary.tasks[task]!.test);
    assert.ok(f!.accuracy > 0.2, `${what}: ${task} learns (chance 0.1)`);
    assert.ok(
      Math.abs(g!.accuracy - f!.accuracy) <= 0.01,
      `${what}: ${task} test accuracy ${g!.accuracy} vs ${f!.accuracy}`,
    );
    assert.ok(Math.abs(g!.loss - f!.loss) <= 1e-3 * g!.loss, `${what}: ${task} test loss ${g!.loss} vs ${f!.loss}`);
  }
}

const pcgrad = (fused: boolean) => train(fused);

test('MultiMNIST PCGrad: fused per-task gradients once per step, accuracies as the generic path, bit-repeatable', async () => {
  const generic = await pcgrad(false);
  assert.equal(generic.taskGrads, 0, 'MTL_FUSED=0: the generic per-task gradients');
  const fused = await pcgrad(true);
  const steps = Math.ceil(fused.summary.data.groups[0]!.train / 256);
  assert.equal(fused.taskGrads, EPOCHS * steps, 'one MtlCnnTaskGrads call per step');
  assertSameResults(generic, fused, 'pcgrad');
  const again = await pcgrad(true);
  assert.ok(again.weights[0]!.equals(fused.weights[0]!), 'the same weights, bit for bit');
  assert.ok(again.weights[1]!.equals(fused.weights[1]!), 'the same Adam moments, bit for bit');
});

test('normalised losses: the fused kernels’ gradients rescaled to L/L₀ and log L give the generic path’s results', async () => {
  const cases = [
    // PCGrad on log L: per-task gradients scaled by 1/L_t.
    { weighting: 'pcgrad', normalize: 'log', wholeStep: false },
    // MGDA-UB on L/L₀: representation gradients scaled by 1/L₀_t, then the fused step with α_t/L₀_t.
    { weighting: 'mgda', normalize: 'initial', wholeStep: true },
  ];
  for (const { weighting, normalize, wholeStep } of cases) {
    const what = `${weighting} normalizeLosses=${normalize}`;
    const generic = await train(false, weighting, normalize);
    assert.deepEqual([generic.taskGrads, generic.steps], [0, 0], `${what}: MTL_FUSED=0 is the generic path`);
    const fused = await train(true, weighting, normalize);
    const steps = EPOCHS * Math.ceil(fused.summary.data.groups[0]!.train / 256);
    assert.equal(fused.taskGrads, steps, `${what}: one MtlCnnTaskGrads call per step`);
    // (MGDA's representation gradients record the first losses before its weights are divided by them.)
    assert.equal(fused.steps, wholeStep ? steps : 0, `${what}: the fused whole step`);
    assertSameResults(generic, fused, what);
  }
});
