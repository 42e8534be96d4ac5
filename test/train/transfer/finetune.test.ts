// The fine-tune setup on real (tiny) models: weight copying, parameter groups with their own
// optimizers and LR scales, phase switching, and a linear probe on a BatchNorm CNN that leaves every
// backbone weight and moving statistic bit-identical while `full` changes them.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../../src/config/defaults.ts';
import type { CnnConfig, Config, FinetuneStrategy } from '../../../src/config/types.ts';
import { type BackendInfo, initBackend } from '../../../src/engine/backend/backend.ts';
import { tf } from '../../../src/engine/backend/tf.ts';
import { InputError } from '../../../src/errors.ts';
import { buildModel } from '../../../src/models/build.ts';
import { loadCheckpoint, saveCheckpoint } from '../../../src/models/checkpoint.ts';
import { Rng } from '../../../src/random/rng.ts';
import type { EpochRecord } from '../../../src/train/loop.ts';
import { createClassifierProgram, layersInTrainingMode } from '../../../src/train/single/classifier.ts';
import { copySourceWeights, createPhaseHook, groupFactory, layerBlocks } from '../../../src/train/transfer/finetune.ts';
import { runFinetune } from '../../../src/train/transfer/finetune-run.ts';
import { planStrategy } from '../../../src/train/transfer/strategies/index.ts';

let backend: BackendInfo;
const tmp = mkdtempSync(join(tmpdir(), 'mtl-finetune-'));
before(async () => {
  backend = await initBackend('wasm');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const TINY_CNN: CnnConfig = {
  type: 'cnn',
  dense: [8],
  activation: 'relu',
  dropout: 0,
  conv: [{ filters: 4, kernel: 3, stride: 1, padding: 'valid', activation: 'relu', batchNorm: true, pool: 2 }],
};
const IMAGE = [28, 28, 1];

/** A source checkpoint whose BatchNorm statistics are far from the defaults (so updates show). */
async function sourceCheckpoint(name: string, numClasses = 10): Promise<string> {
  const { model } = buildModel(TINY_CNN, { imageShape: IMAGE, numClasses, rng: new Rng(7) });
  const bn = model.getLayer('bn_1');
  bn.setWeights(bn.getWeights().map((w, i) => tf.fill(w.shape, [1.5, 0.2, 0.3, 2.0][i]!)));
  const dir = join(tmp, name);
  await saveCheckpoint(dir, model, { preprocess: { inputShape: IMAGE, steps: [{ op: 'scale', factor: 1 / 255 }] } });
  model.dispose();
  return dir;
}

function finetuneConfig(strategy: FinetuneStrategy, from: string): Config {
  const base = defaultConfig(`ft-${strategy}`);
  return {
    ...base,
    model: TINY_CNN,
    data: { ...base.data, limit: 256 },
    trainer: { ...base.trainer, mode: 'finetune', epochs: 1, batchSize: 64 },
    init: { from, keepHead: false },
    finetune: { ...base.finetune, strategy },
  };
}

/** Every weight of every non-head layer, as raw bytes, keyed by variable name. */
function backboneBytes(model: tf.LayersModel): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const layer of model.layers) {
    if (layer.name.startsWith('head')) continue;
    for (const w of layer.weights) out.set(w.originalName, Buffer.from((w.read().dataSync() as Float32Array).buffer));
  }
  return out;
}

describe('linear-probe on a BatchNorm CNN', () => {
  it('keeps every backbone weight and BatchNorm statistic bit-identical to the source', async () => {
    const src = await sourceCheckpoint('src-probe');
    const summary = await runFinetune(finetuneConfig('linear-probe', src), {
      runsDir: join(tmp, 'runs'),
      argv: [],
      backend,
    });
    assert.equal(summary.kind, 'finetune');
    const before = await loadCheckpoint(src);
    const trained = await loadCheckpoint(join(summary.runDir, 'checkpoints', 'last'));
    const a = backboneBytes(before.model);
    const b = backboneBytes(trained.model);
    assert.ok(
      [...a.keys()].some((k) => k.includes('moving_mean')),
      'BatchNorm statistics are compared',
    );
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} is bit-identical`);
    const epoch = JSON.parse(readFileSync(join(summary.runDir, 'metrics.jsonl'), 'utf8').trim());
    assert.equal(epoch.phase, 'probe');
    assert.deepEqual(epoch.groups, [{ name: 'head', blocks: ['head'], lrScale: 1 }]);
  });

  it('full fine-tuning, by contrast, moves the conv weights and the BatchNorm statistics', async () => {
    const src = await sourceCheckpoint('src-full');
    const summary = await runFinetune(finetuneConfig('full', src), { runsDir: join(tmp, 'runs'), argv: [], backend });
    const a = backboneBytes((await loadCheckpoint(src)).model);
    const b = backboneBytes((await loadCheckpoint(join(summary.runDir, 'checkpoints', 'last'))).model);
    for (const name of ['conv_1/kernel', 'bn_1/moving_mean', 'bn_1/moving_variance', 'dense_1/kernel']) {
      const key = [...a.keys()].find((k) => k.startsWith(name))!;
      assert.ok(!a.get(key)!.equals(b.get(key)!), `${name} changed`);
    }
  });
});

describe('copySourceWeights', () => {
  it('copies the backbone, leaves a new head, and refuses a head of another size with keepHead', async () => {
    const src = await sourceCheckpoint('src-copy', 10);
    const { model } = buildModel(TINY_CNN, { imageShape: IMAGE, numClasses: 5, rng: new Rng(99) });
    const headBefore = model.getLayer('head').getWeights()[0]!.dataSync().slice();
    const tensors = tf.memory().numTensors;
    await copySourceWeights(model, src, { keepHead: false, inputShape: IMAGE });
    assert.equal(tf.memory().numTensors, tensors, 'the loaded source model and the copies are freed');
    assert.deepEqual(backboneBytes(model), backboneBytes((await loadCheckpoint(src)).model));
    assert.deepEqual(model.getLayer('head').getWeights()[0]!.dataSync(), headBefore);
    await assert.rejects(
      copySourceWeights(model, src, { keepHead: true, inputShape: IMAGE }),
      (e: unknown) => e instanceof InputError && /layer 'head'.*keepHead/.test(e.message),
    );
    await assert.rejects(copySourceWeights(model, src, { keepHead: false, inputShape: [784] }), InputError);
  });
});

describe('parameter groups and phases', () => {
  const cnn = (): tf.LayersModel => buildModel(TINY_CNN, { imageShape: IMAGE, numClasses: 3, rng: new Rng(1) }).model;

  it('gradual: one optimizer per block, kept across phases, each stepped at lr × its scale', () => {
    const model = cnn();
    const blocks = layerBlocks(model);
    assert.deepEqual([...blocks.keys()], ['conv_1', 'dense_1', 'head']);
    assert.deepEqual(
      blocks.get('conv_1')!.map((l) => l.name),
      ['conv_1', 'bn_1'],
    );
    const phases = planStrategy('gradual', [...blocks.keys()], defaultConfig().finetune);
    const groupsOf = groupFactory(blocks, defaultConfig().trainer.optimizer);
    const first = groupsOf(phases[0]!);
    const last = groupsOf(phases[2]!);
    assert.deepEqual(
      last.map((g) => g.layers.map((l) => l.name)),
      [['head'], ['dense_1'], ['conv_1', 'bn_1']],
    );
    assert.equal(last[0]!.optimizer, first[0]!.optimizer, 'the head keeps its optimizer (and Adam moments)');
    assert.equal(new Set(last.map((g) => g.optimizer)).size, 3, 'one optimizer per group');
    const n = 8;
    const train = {
      x: tf.randomUniform([n, ...IMAGE], 0, 1, 'float32', 5),
      y: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'),
      n,
    };
    const program = createClassifierProgram({
      model,
      train,
      val: null,
      numClasses: 3,
      batchSize: n,
      groups: last,
      regularization: { l1: 0, l2: 0 },
      rng: new Rng(2),
      scoreValidation: () => ({ metrics: {}, monitor: 0 }),
    });
    program.beginEpoch(1);
    const out = program.step(0.01);
    tf.dispose([out.loss, out.correct!, train.x, train.y]);
    const lrs = last.map((g) => (g.optimizer as unknown as { learningRate: number }).learningRate);
    assert.deepEqual(
      lrs.map((x) => +x.toFixed(12)),
      [0.01, 0.01 / 2.6, 0.01 / 2.6 ** 2].map((x) => +x.toFixed(12)),
    );
    assert.throws(
      () => groupsOf({ name: 'bad', groups: [{ name: 'x', blocks: ['conv_9'], lrScale: 1 }] }),
      /names block 'conv_9'/,
    );
  });

  it('lp-ft switches after lpEpochs, or when the probe stops improving (at most half the epochs)', () => {
    const blocks = layerBlocks(cnn());
    const record = (epoch: number, accuracy: number): EpochRecord => ({
      epoch,
      seconds: 0,
      lr: 0,
      train: { loss: 0 },
      val: { loss: 0, accuracy },
    });
    const hook = (lpEpochs: number | null, epochs: number) => {
      const base = defaultConfig();
      const config = {
        ...base,
        trainer: { ...base.trainer, epochs },
        finetune: { ...base.finetune, strategy: 'lp-ft' as const, lpEpochs },
      };
      const phases = planStrategy('lp-ft', [...blocks.keys()], config.finetune);
      return createPhaseHook(config, phases, groupFactory(blocks, base.trainer.optimizer));
    };
    const fixed = hook(2, 10);
    assert.equal(fixed.beginEpoch(1, []), null);
    assert.equal(fixed.beginEpoch(2, [record(1, 0.5)]), null);
    const switched = fixed.beginEpoch(3, [record(1, 0.5), record(2, 0.9)]);
    assert.deepEqual(
      switched?.map((g) => [g.name, g.lrScale]),
      [
        ['head', 0.1],
        ['backbone', 0.1],
      ],
    );
    assert.equal(fixed.describe?.().phase, 'finetune');
    const auto = hook(null, 10);
    assert.equal(auto.beginEpoch(3, [record(1, 0.5), record(2, 0.6)]), null, 'still improving');
    assert.ok(auto.beginEpoch(4, [record(1, 0.5), record(2, 0.6), record(3, 0.6)]), 'plateau: switch');
    const capped = hook(null, 4);
    assert.equal(capped.beginEpoch(2, [record(1, 0.5)]), null);
    assert.ok(capped.beginEpoch(3, [record(1, 0.5), record(2, 0.7)]), 'half of 4 epochs probed: switch');
  });
});

describe('dropout follows the block it belongs to', () => {
  const DROPOUT_CNN: CnnConfig = { ...TINY_CNN, dropout: 0.5 };

  it('is on above a trained layer and off in a frozen backbone', () => {
    const { model } = buildModel(DROPOUT_CNN, { imageShape: IMAGE, numClasses: 3, rng: new Rng(3) });
    const names = (on: Set<tf.layers.Layer>): string[] => model.layers.filter((l) => on.has(l)).map((l) => l.name);
    const byName = (...n: string[]): Set<tf.layers.Layer> => new Set(n.map((x) => model.getLayer(x)));
    const all = new Set(model.layers.filter((l) => l.trainableWeights.length > 0));
    assert.ok(names(layersInTrainingMode(model, all)).includes('dropout_1'), 'pretraining: dropout on');
    assert.ok(
      names(layersInTrainingMode(model, byName('dense_1', 'head'))).includes('dropout_1'),
      'freeze-conv: dense_1 trains, its dropout is on',
    );
    const probe = names(layersInTrainingMode(model, byName('head')));
    assert.deepEqual(
      probe.filter((n) => !n.startsWith('head')),
      [],
      'linear probe: the whole backbone, dropout included, is in inference mode',
    );
    assert.ok(
      !names(layersInTrainingMode(model, byName('dense_1', 'head'))).includes('bn_1'),
      'a frozen BatchNorm stays in inference mode',
    );
    model.dispose();
  });

  it('a training step with dropout 0.5 is not the inference-mode computation', () => {
    const losses = [0, 0.5].map((rate) => {
      const { model } = buildModel(
        { ...TINY_CNN, dropout: rate },
        { imageShape: IMAGE, numClasses: 3, rng: new Rng(3) },
      );
      const n = 16;
      const train = {
        x: tf.randomUniform([n, ...IMAGE], 0, 1, 'float32', 5),
        y: tf.tensor1d(
          Array.from({ length: n }, (_, i) => i % 3),
          'int32',
        ),
        n,
      };
      const layers = model.layers.filter((l) => l.trainableWeights.length > 0);
      const program = createClassifierProgram({
        model,
        train,
        val: null,
        numClasses: 3,
        batchSize: n,
        regularization: { l1: 0, l2: 0 },
        rng: new Rng(2),
        groups: [{ name: 'all', layers, optimizer: tf.train.adam(1e-3), lrScale: 1 }],
        scoreValidation: () => ({ metrics: {}, monitor: 0 }),
      });
      program.beginEpoch(1);
      const out = program.step(1e-3);
      const loss = out.loss.dataSync()[0]!;
      tf.dispose([out.loss, out.correct!, train.x, train.y]);
      model.dispose();
      return loss;
    });
    // Same weights (same seed), same batch: only an active dropout changes the first step's loss.
    assert.notEqual(losses[0], losses[1]);
  });
});
