// stringifyConfig: stable, readable YAML that loads back to the same resolved config.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/defaults.ts';
import { loadConfig, loadConfigText } from '../../src/config/load.ts';
import { stringifyConfig } from '../../src/config/print.ts';
import type { Config } from '../../src/config/types.ts';
import { writeConfig } from './helpers.ts';

function roundTrip(config: Readonly<Config>): Config {
  // A different file name proves the printed name, not the file name, is what comes back.
  return loadConfig(writeConfig('config.yaml', stringifyConfig(config))).config;
}

describe('stringifyConfig', () => {
  it('round-trips the shipped configs and the defaults', () => {
    for (const file of ['configs/mnist-mlp.yaml', 'configs/mnist-cnn.yaml', 'configs/fashion-mlp.yaml']) {
      const { config } = loadConfig(file);
      assert.deepEqual(roundTrip(config), config, file);
    }
    assert.deepEqual(roundTrip(defaultConfig('d')), defaultConfig('d'));
  });

  it('round-trips non-default values of every kind', () => {
    const { config } = loadConfig('configs/mnist-cnn.yaml', [
      'model.conv=[{filters: 8, padding: same, batchNorm: true, pool: 0}]',
      'data.dataset=idx:datasets/my digits',
      'data.limit=1000',
      'trainer.optimizer.epsilon=1e-8',
      'trainer.schedule={name: cosine, warmupEpochs: 0.5, minLr: 1e-6}',
      'trainer.earlyStopping.patience=2',
    ]);
    assert.deepEqual(roundTrip(config), config);
  });

  it('writes keys in the order of types.ts, whatever order the object has', () => {
    const config = defaultConfig('ordered');
    const shuffled = {
      finetune: config.finetune,
      init: config.init,
      multitask: config.multitask,
      tasks: config.tasks,
      trainer: config.trainer,
      model: config.model,
      data: config.data,
      backend: 'auto',
      seed: 42,
      name: 'ordered',
    };
    const text = stringifyConfig(shuffled as Config);
    assert.equal(text, stringifyConfig(config));
    const topKeys = text
      .split('\n')
      .filter((line) => /^\w+:/.test(line))
      .map((line) => line.split(':')[0]);
    assert.deepEqual(topKeys, [
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
    assert.match(text, /^ {2}hidden: \[128\]$/m);
    assert.match(text, /^ {4}epsilon: 1e-7$/m);
  });

  it('loads back from memory too', () => {
    const config = defaultConfig('mem');
    assert.deepEqual(loadConfigText(stringifyConfig(config), { file: 'runs/x/config.yaml' }).config, config);
  });
});
