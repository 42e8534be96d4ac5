// The schema fills every documented default, enforces ranges, and parses dataset strings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDatasetSpec } from '../../src/config/dataset-spec.ts';
import { defaultConfig, describeConfig } from '../../src/config/defaults.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { Config } from '../../src/config/types.ts';

// Written out by hand from the comments of src/config/types.ts, so a changed default fails here.
const EXPECTED_DEFAULTS: Config = {
  name: 'experiment',
  seed: 42,
  backend: 'auto',
  data: {
    dataset: 'mnist',
    normalize: 'standardize',
    validation: 0.1,
    limit: null,
    test: 0.2,
    image: { size: null, channels: null },
    label: 'label',
    features: 'auto',
    categorical: [],
    ignore: [],
    missing: 'error',
    delimiter: ',',
  },
  model: { type: 'mlp', hidden: [128], activation: 'relu', dropout: 0 },
  trainer: {
    mode: 'pretrain',
    epochs: 10,
    batchSize: 128,
    optimizer: { name: 'adam', lr: 0.001, momentum: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, rho: 0.9 },
    schedule: { name: 'constant', warmupEpochs: 0, stepEpochs: 3, gamma: 0.1, minLr: 0 },
    regularization: { l1: 0, l2: 0 },
    monitor: 'val.accuracy',
    earlyStopping: { patience: null, minDelta: 0 },
  },
  tasks: [],
  multitask: {
    architecture: 'hard',
    weighting: 'equal',
    normalizeLosses: 'none',
    dwaTemperature: 2,
    gradnormAlpha: 1.5,
    cagradC: 0.4,
    experts: 3,
    distill: { from: [], temperature: 2, alpha: 0.5 },
  },
  init: { from: null, keepHead: false },
  finetune: { strategy: 'full', lpEpochs: null, ftLrScale: 0.1, unfreezeEvery: 1, lrDecay: 2.6 },
};

describe('config schema', () => {
  it('fills every default from types.ts', () => {
    assert.deepEqual(defaultConfig(), EXPECTED_DEFAULTS);
  });

  it('keeps the key order of types.ts', () => {
    assert.deepEqual(Object.keys(defaultConfig()), [
      'name',
      'seed',
      'backend',
      'data',
      'model',
      'trainer',
      'tasks',
      'multitask',
      'init',
      'finetune',
    ]);
  });

  it('fills cnn defaults, including the conv blocks', () => {
    const config = configSchema.parse({ name: 'c', model: { type: 'cnn', conv: [{ filters: 16, pool: 0 }] } });
    assert.deepEqual(config.model, {
      type: 'cnn',
      conv: [{ filters: 16, kernel: 3, stride: 1, padding: 'valid', activation: 'relu', batchNorm: false, pool: 0 }],
      dense: [128],
      activation: 'relu',
      dropout: 0,
    });
    const bare = configSchema.parse({ name: 'c', model: { type: 'cnn' } });
    assert.deepEqual(bare.model.type === 'cnn' && bare.model.conv.map((c) => c.filters), [32, 64]);
  });

  it('treats a model without a type as an mlp', () => {
    const config = configSchema.parse({ name: 'm', model: { hidden: [64, 32] } });
    assert.deepEqual(config.model, { type: 'mlp', hidden: [64, 32], activation: 'relu', dropout: 0 });
  });

  it('enforces ranges at their edges', () => {
    const ok = (patch: object) => configSchema.safeParse({ name: 'r', ...patch }).success;
    assert.equal(ok({ data: { validation: 0 } }), true);
    assert.equal(ok({ data: { validation: 1 } }), false);
    assert.equal(ok({ trainer: { epochs: 10000 } }), true);
    assert.equal(ok({ trainer: { epochs: 10001 } }), false);
    assert.equal(ok({ trainer: { batchSize: 65536 } }), true);
    assert.equal(ok({ trainer: { batchSize: 1.5 } }), false);
    assert.equal(ok({ trainer: { optimizer: { lr: 0 } } }), false);
    assert.equal(ok({ trainer: { schedule: { gamma: 1 } } }), true);
    assert.equal(ok({ trainer: { schedule: { gamma: 0 } } }), false);
    assert.equal(ok({ trainer: { earlyStopping: { patience: 0 } } }), false);
    assert.equal(ok({ model: { type: 'cnn', conv: [] } }), false);
    assert.equal(ok({ model: { hidden: [] } }), true, 'softmax regression is a valid baseline');
    assert.equal(ok({ name: 'a b' }), false);
    assert.equal(ok({ name: 'x'.repeat(65) }), false);
    assert.equal(ok({ seed: Number.POSITIVE_INFINITY }), false);
  });

  it('describes every leaf of the default config with a type and description', () => {
    const fields = describeConfig();
    const paths = new Set(fields.map((f) => f.path));
    const leaves = (value: object, prefix = ''): string[] =>
      Object.entries(value).flatMap(([k, v]) =>
        v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    for (const leaf of leaves(defaultConfig())) assert.ok(paths.has(leaf), `missing ${leaf}`);
    for (const field of fields) assert.ok(field.description && field.type, `undocumented ${field.path}`);
    const lr = fields.find((f) => f.path === 'trainer.optimizer.lr');
    assert.deepEqual(lr, {
      path: 'trainer.optimizer.lr',
      type: 'number > 0',
      default: 0.001,
      description: 'Base learning rate.',
    });
    const kernel = fields.find((f) => f.path === 'model.conv[].kernel');
    assert.equal(kernel?.when, 'model.type: cnn');
    assert.equal(kernel?.default, 3);
  });
});

describe('dataset strings', () => {
  it('parses the valid forms', () => {
    assert.deepEqual(parseDatasetSpec('mnist'), { ok: true, spec: { source: 'mnist', arg: null, classes: null } });
    assert.deepEqual(parseDatasetSpec('idx:data/x'), {
      ok: true,
      spec: { source: 'idx', arg: 'data/x', classes: null },
    });
    assert.deepEqual(parseDatasetSpec('idx:/data/x:3-4'), {
      ok: true,
      spec: { source: 'idx', arg: '/data/x', classes: [3, 4] },
    });
    assert.deepEqual(
      parseDatasetSpec('idx:5'),
      { ok: true, spec: { source: 'idx', arg: '5', classes: null } },
      'a folder named 5',
    );
    const subset = (text: string) => {
      const parsed = parseDatasetSpec(text);
      return parsed.ok ? parsed.spec.classes : parsed;
    };
    assert.deepEqual(subset('mnist:0-4'), [0, 1, 2, 3, 4]);
    assert.deepEqual(subset('fashion:5,7,9'), [5, 7, 9]);
    assert.deepEqual(subset('mnist:0-2,7'), [0, 1, 2, 7]);
  });

  it('rejects malformed ones with the valid forms in the message', () => {
    for (const bad of [
      'cifar',
      'idx:',
      'mnist:',
      'mnist:4-2',
      'mnist:0-3,2',
      'mnist:3',
      'mnist:10',
      'mnist:0-4:1',
      'idx:d:0-999',
    ]) {
      assert.equal(parseDatasetSpec(bad).ok, false, bad);
      const result = configSchema.safeParse({ name: 'd', data: { dataset: bad } });
      assert.match(result.error?.issues[0]?.message ?? '', /idx:<dir>/, bad);
    }
  });
});
