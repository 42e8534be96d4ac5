// Multi-task runs through the real CLI on small samples: run folder and summary, --baselines with Δm
// and baseline reuse by config hash, distillation from the baselines, multi-input, --seeds, misuse.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mtl, tempDir } from './helpers.ts';

/** A small MultiMNIST run in `runsDir`; every test gets its own runs folder, so no test depends on another. */
const base = (runsDir: string): string[] => [
  'train',
  'configs/multimnist-hps.yaml',
  '--limit',
  '300',
  '--epochs',
  '1',
  '--runs-dir',
  runsDir,
  '--json',
];

/** The single-task baselines of the small run, trained in `runsDir` by `--baselines`. */
function trainBaselines(runsDir: string): string[] {
  const r = mtl([...base(runsDir), '--baselines']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).deltaM.baselineRunIds;
}

test('--baselines: per-task summary, single-task runs, and Δm in both conventions', () => {
  const runsDir = tempDir('mtl-mt-');
  const r = mtl([...base(runsDir), '--baselines']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.kind, 'multitask');
  for (const task of ['left', 'right']) {
    assert.ok(s.tasks[task].val.accuracy >= 0 && s.tasks[task].test.accuracy > 0, task);
    for (const k of ['loss', 'accuracy', 'macroF1', 'aucRoc']) assert.ok(k in s.tasks[task].test, `${task}.test.${k}`);
  }
  assert.equal(s.deltaM.baselineRunIds.length, 2);
  const baselineIds: string[] = s.deltaM.baselineRunIds;
  // One accuracy per task: the pooled drop and LibMTL's task-balanced Δp are each other's negatives.
  assert.ok(Math.abs(s.deltaM.dropPct + s.deltaM.deltaPPct) < 1e-9, JSON.stringify(s.deltaM));
  const rel = (t: string) =>
    (s.tasks[t].test.accuracy - s.deltaM.baselines[t].accuracy) / s.deltaM.baselines[t].accuracy;
  assert.ok(Math.abs(s.deltaM.deltaPPct - ((rel('left') + rel('right')) / 2) * 100) < 1e-9);
  assert.deepEqual(JSON.parse(readFileSync(join(s.runDir, 'summary.json'), 'utf8')).deltaM, s.deltaM);
  for (const [i, id] of baselineIds.entries()) {
    const b = JSON.parse(readFileSync(join(runsDir, id, 'summary.json'), 'utf8'));
    assert.deepEqual(Object.keys(b.tasks), [['left', 'right'][i]]);
    assert.equal(b.multitask.weighting, 'equal');
  }
  const epochs = readFileSync(join(s.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(epochs.length, 1);
  assert.ok(epochs[0].val.left && epochs[0].trainTasks.right && epochs[0].weights);
  for (const f of [
    'checkpoints/best/model.json',
    'checkpoints/best/preprocess.json',
    'checkpoints/last/optimizer.json',
  ]) {
    assert.ok(existsSync(join(s.runDir, f)), f);
  }
  assert.match(r.stderr, /Δm \(Maninis et al\. 2019, performance drop, lower is better\)/);
});

test('a gradient method reuses the cached baselines and records conflict diagnostics', () => {
  const runsDir = tempDir('mtl-mt-');
  const baselineIds = trainBaselines(runsDir);
  const r = mtl([...base(runsDir), '--baselines', '--set', 'multitask.weighting=mgda']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.deltaM.baselineRunIds, baselineIds);
  assert.match(r.stderr, /reused: same config hash/);
  const epoch = JSON.parse(readFileSync(join(s.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!);
  assert.equal(epoch.gradients.space, 'representation');
  assert.ok(Math.abs(epoch.weights.left + epoch.weights.right - 1) < 1e-6);
});

test('distillation from the single-task runs: teachers and student side by side', () => {
  const runsDir = tempDir('mtl-mt-');
  const baselineIds = trainBaselines(runsDir);
  const r = mtl([
    ...base(runsDir),
    '--set',
    `multitask.distill.from=[${baselineIds.join(',')}]`,
    '--set',
    'multitask.distill.alpha=0.7',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.distill.alpha, 0.7);
  assert.equal(s.distill.tasks.left.teacherRunId, baselineIds[0]);
  assert.equal(s.distill.tasks.right.teacherRunId, baselineIds[1]);
  assert.equal(s.distill.tasks.right.studentAccuracy, s.tasks.right.test.accuracy);
  assert.ok(s.distill.tasks.left.teacherAccuracy > 0);
  assert.match(r.stderr, /teacher test acc/);
});

test('multi-input: MNIST digits and Fashion classes on one trunk', () => {
  const runsDir = tempDir('mtl-mt-');
  const r = mtl([
    'train',
    'configs/mnist-fashion-multi-input.yaml',
    '--limit',
    '1000',
    '--epochs',
    '2',
    '--runs-dir',
    runsDir,
    '--json',
    '--set',
    'trainer.batchSize=64',
    '--set',
    'trainer.optimizer.lr=0.005',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.multitask.inputs, 'multi');
  assert.deepEqual(
    s.data.groups.map((g: { dataset: string; train: number }) => [g.dataset, g.train]),
    [
      ['mnist', 1000],
      ['fashion', 1000],
    ],
  );
  // 32 steps on 1,000 examples each: far above chance (0.1) on both, though far from converged.
  assert.ok(s.tasks.digit.test.accuracy > 0.4 && s.tasks.fashion.test.accuracy > 0.4, JSON.stringify(s.tasks));
});

test('numTensors stays flat across epochs, checkpoints included', () => {
  const runsDir = tempDir('mtl-mt-');
  const r = mtl([
    'train',
    'configs/multimnist-hps.yaml',
    '--limit',
    '256',
    '--epochs',
    '3',
    '--runs-dir',
    runsDir,
    '--json',
    '--set',
    'multitask.weighting=cagrad',
    '--set',
    'multitask.architecture=mmoe',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  const counts = readFileSync(join(s.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).numTensors);
  // Epoch 1 is read before the first best-weights copy exists; from then on nothing may grow.
  assert.equal(counts[1], counts[2], counts.join(', '));
});

test('--seeds 2 reports mean ± std over seeds', () => {
  const r = mtl([...base(tempDir('mtl-mt-')), '--seeds', '2', '--set', 'multitask.architecture=cross-stitch']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.aggregate.seeds, [42, 43]);
  assert.equal(out.runs.length, 2);
  const accs = out.runs.map((x: { tasks: { left: { test: { accuracy: number } } } }) => x.tasks.left.test.accuracy);
  assert.ok(Math.abs(out.aggregate.tasks.left.accuracy.mean - (accs[0] + accs[1]) / 2) < 1e-12);
});

test('--baselines outside multitask mode is a usage error; a bad teacher is an input error', () => {
  const runsDir = tempDir('mtl-mt-');
  const a = mtl(['train', 'configs/mnist-mlp.yaml', '--baselines', '--runs-dir', runsDir]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--baselines and --seeds apply to trainer.mode multitask/);
  const b = mtl([...base(runsDir), '--set', 'multitask.distill.from=[no-such-run]']);
  assert.equal(b.code, 3, b.stderr);
  assert.match(b.stderr, /no run matches 'no-such-run'/);
});
