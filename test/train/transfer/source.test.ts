// The source side of a transfer: the resolved source config (the same as configs/mnist-mlp.yaml),
// which existing runs count as reusable, and the children's target config.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { hashConfig, type RunRecord } from '../../../src/runs/run-record.ts';
import { childName, type TransferOptions, targetConfigFor } from '../../../src/train/transfer/job.ts';
import { datasetSlug, findReusableSource, sourceConfigFor } from '../../../src/train/transfer/source.ts';
import { sampleRecord } from '../../runs/helpers.ts';

const REQUEST = { from: 'mnist', seed: 42, backend: 'auto' as const, limit: null, epochs: 10 };

describe('source config', () => {
  it('--from mnist is exactly configs/mnist-mlp.yaml, so a run of that file is reused', () => {
    const config = sourceConfigFor(REQUEST);
    assert.deepEqual(config, loadConfig('configs/mnist-mlp.yaml').config);
    assert.equal(hashConfig(config), hashConfig(loadConfig('configs/mnist-mlp.yaml').config));
  });

  it('the cnn preset has BatchNorm after each conv; seed, limit and epochs change the hash', () => {
    const cnn = sourceConfigFor({ ...REQUEST, from: 'mnist:0-4', model: 'cnn' });
    assert.equal(cnn.name, 'mnist0-4-cnn');
    assert.ok(cnn.model.type === 'cnn' && cnn.model.conv.every((b) => b.batchNorm));
    assert.equal(cnn.trainer.schedule.name, 'cosine');
    assert.equal(sourceConfigFor(REQUEST).trainer.schedule.name, 'constant');
    const base = hashConfig(sourceConfigFor(REQUEST));
    for (const change of [{ seed: 43 }, { limit: 300 }, { epochs: 3 }]) {
      assert.notEqual(hashConfig(sourceConfigFor({ ...REQUEST, ...change })), base, JSON.stringify(change));
    }
  });

  it('names: dataset slugs and child names fit the run-name rules', () => {
    assert.deepEqual(['mnist', 'mnist:5-9', 'fashion:0,2', 'idx:/data/my digits/'].map(datasetSlug), [
      'mnist',
      'mnist5-9',
      'fashion0-2',
      'my-digits',
    ]);
    const long = childName('x'.repeat(64), 'linear-probe');
    assert.equal(long.length, 64);
    assert.ok(long.endsWith('-linear-probe'));
  });
});

describe('findReusableSource', () => {
  function fakeRun(root: string, id: string, patch: Partial<RunRecord>, complete = true): void {
    const dir = join(root, id);
    mkdirSync(join(dir, 'checkpoints', 'best'), { recursive: true });
    writeFileSync(join(dir, 'run.json'), JSON.stringify(sampleRecord({ id, ...patch })));
    if (complete) {
      writeFileSync(join(dir, 'checkpoints', 'best', 'model.json'), '{}');
      writeFileSync(join(dir, 'summary.json'), '{}');
    }
  }

  it('takes the newest completed pretrain run with the same config hash and a best checkpoint', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mtl-reuse-'));
    const config = sourceConfigFor(REQUEST);
    const hash = hashConfig(config);
    const ok = { kind: 'pretrain' as const, status: 'completed' as const, configHash: hash };
    fakeRun(root, 'old', { ...ok, startedAt: '2024-01-01T00:00:00.000Z' });
    fakeRun(root, 'new', { ...ok, startedAt: '2024-02-01T00:00:00.000Z' });
    fakeRun(root, 'failed', { ...ok, status: 'failed', startedAt: '2024-03-01T00:00:00.000Z' });
    fakeRun(root, 'other-hash', { ...ok, configHash: 'ffffffffffffffff', startedAt: '2024-03-01T00:00:00.000Z' });
    fakeRun(root, 'finetune', { ...ok, kind: 'finetune', startedAt: '2024-03-01T00:00:00.000Z' });
    fakeRun(root, 'no-checkpoint', { ...ok, startedAt: '2024-03-01T00:00:00.000Z' }, false);
    assert.equal((await findReusableSource(root, config))?.id, 'new');
    assert.equal(await findReusableSource(root, sourceConfigFor({ ...REQUEST, seed: 7 })), null);
    assert.equal(await findReusableSource(join(root, 'missing'), config), null);
  });
});

describe('targetConfigFor', () => {
  it('keeps the source model and normalization kind, on the target data, in finetune mode from the source run', () => {
    const source = {
      runId: 'src-1',
      runDir: '/r/src-1',
      checkpointDir: '/r/src-1/checkpoints/best',
      reused: true,
      config: sourceConfigFor({ ...REQUEST, model: 'cnn' }),
      test: { loss: 0, accuracy: 1, macroF1: 1, aucRoc: 1 },
    };
    const o = { to: 'fashion', seed: 5, backend: 'auto', limit: 300, epochs: 4, keepHead: true } as TransferOptions;
    const c = targetConfigFor(o, source, 'mnist-to-fashion-cnn');
    assert.deepEqual(c.model, source.config.model);
    assert.deepEqual(c.data, { ...source.config.data, dataset: 'fashion', limit: 300 });
    assert.deepEqual([c.trainer.mode, c.trainer.epochs, c.seed], ['finetune', 4, 5]);
    assert.deepEqual(c.init, { from: 'src-1', keepHead: true });
    assert.equal(c.finetune.strategy, 'full');
  });
});
