// `--set key=value` and CLI flags: YAML-typed values, schema-checked paths, union switches.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { UsageError } from '../../src/errors.ts';
import { issuesOf } from './helpers.ts';

const MLP = 'configs/mnist-mlp.yaml';
const CNN = 'configs/mnist-cnn.yaml';

describe('--set overrides', () => {
  it('parses values as YAML: numbers, lists, null, strings', () => {
    const { config } = loadConfig(MLP, [
      'trainer.optimizer.lr=3e-4',
      'model.hidden=[256,128]',
      'data.limit=2000',
      'data.limit=null',
      'data.dataset=mnist:0-4',
      'trainer.monitor=val.loss',
    ]);
    assert.equal(config.trainer.optimizer.lr, 0.0003);
    assert.deepEqual(config.model.type === 'mlp' && config.model.hidden, [256, 128]);
    assert.equal(config.data.limit, null, 'the last override wins');
    assert.equal(config.data.dataset, 'mnist:0-4');
    assert.equal(config.trainer.monitor, 'val.loss');
  });

  it('sets keys the file does not mention, creating sections', () => {
    const { config, raw } = loadConfig(MLP, ['trainer.earlyStopping.patience=3']);
    assert.equal(config.trainer.earlyStopping.patience, 3);
    assert.deepEqual((raw as { trainer: { earlyStopping: unknown } }).trainer.earlyStopping, { patience: 3 });
  });

  it('switches the model type, dropping keys of the old variant, in either order', () => {
    for (const sets of [
      ['model.type=cnn', 'model.conv=[{filters: 8}]'],
      ['model.conv=[{filters: 8}]', 'model.type=cnn'],
    ]) {
      const { config } = loadConfig(MLP, sets);
      assert.equal(config.model.type, 'cnn');
      assert.deepEqual(config.model.type === 'cnn' && config.model.conv.map((c) => c.filters), [8]);
      assert.equal(config.model.activation, 'relu', 'a key both variants share is kept');
    }
    const bare = loadConfig(MLP, ['model.type=cnn']).config;
    assert.deepEqual(bare.model.type === 'cnn' && bare.model.conv.map((c) => c.filters), [32, 64]);
    const back = loadConfig(CNN, ['model.type=mlp']).config;
    assert.deepEqual(back.model, { type: 'mlp', hidden: [128], activation: 'relu', dropout: 0 });
  });

  it('indexes into a list the file defines', () => {
    const { config } = loadConfig(CNN, ['model.conv.1.filters=16']);
    assert.deepEqual(config.model.type === 'cnn' && config.model.conv.map((c) => c.filters), [32, 16]);
    const [issue] = issuesOf(() => loadConfig(CNN, ['model.conv.5.filters=16']));
    assert.match(issue?.message ?? '', /model\.conv has no element 5/);
    const [fromDefault] = issuesOf(() => loadConfig(MLP, ['model.type=cnn', 'model.conv.0.filters=16']));
    assert.match(fromDefault?.message ?? '', /model\.conv has no element 0; set the whole list instead/);
  });

  it('rejects unknown paths, listing the valid keys and the closest one', () => {
    const issues = issuesOf(() => loadConfig(MLP, ['trainer.epoch=3', 'seed.x=1', 'model.conv=[]']));
    assert.deepEqual(issues[0], {
      path: 'trainer.epoch',
      message:
        "unknown key 'epoch' (valid keys under trainer: mode, epochs, batchSize, optimizer, schedule, " +
        "regularization, monitor, earlyStopping); did you mean 'epochs'?",
      location: '--set trainer.epoch=3',
    });
    assert.equal(issues[1]?.message, 'seed is a single value, not a section');
    assert.match(
      issues[2]?.message ?? '',
      /^unknown key 'conv' \(valid keys under model: type, hidden, activation, dropout\)$/,
    );
  });

  it('locates bad values at the --set that supplied them', () => {
    const issues = issuesOf(() =>
      loadConfig(MLP, ['trainer.epochs=0', 'model.type=rnn', 'trainer.optimizer={lr: -1}']),
    );
    assert.deepEqual(
      issues.map((i) => [i.path, i.location, i.message]),
      [
        ['model.type', '--set model.type=rnn', "expected one of mlp, cnn, got 'rnn'"],
        ['trainer.epochs', '--set trainer.epochs=0', 'expected an integer from 1 to 10000, got 0'],
        ['trainer.optimizer.lr', '--set trainer.optimizer={lr: -1}', 'expected a number > 0, got -1'],
      ],
    );
  });

  it('throws a UsageError for a malformed override', () => {
    assert.throws(() => loadConfig(MLP, ['trainer.epochs']), UsageError);
    assert.throws(() => loadConfig(MLP, ['trainer..epochs=3']), UsageError);
    assert.throws(() => loadConfig(MLP, ['=3']), UsageError);
  });

  it('reports a value that is not valid YAML', () => {
    const [issue] = issuesOf(() => loadConfig(MLP, ['model.hidden=[1,']));
    assert.equal(issue?.location, '--set model.hidden=[1,');
    assert.match(issue?.message ?? '', /cannot parse the value as YAML/);
  });
});

describe('CLI flag extras', () => {
  it('override the file and every --set', () => {
    const extra = { epochs: 2, seed: 7, limit: 500, backend: 'cpu' as const, name: 'smoke' };
    const { config } = loadConfig(MLP, ['trainer.epochs=5'], extra);
    assert.equal(config.trainer.epochs, 2);
    assert.equal(config.seed, 7);
    assert.equal(config.data.limit, 500);
    assert.equal(config.backend, 'cpu');
    assert.equal(config.name, 'smoke');
  });

  it('are located by their flag', () => {
    const issues = issuesOf(() => loadConfig(MLP, [], { epochs: 0, name: 'bad name' }));
    assert.deepEqual(
      issues.map((i) => [i.path, i.location]),
      [
        ['name', '--name bad name'],
        ['trainer.epochs', '--epochs 0'],
      ],
    );
  });
});
