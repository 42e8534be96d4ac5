// loadConfig: shipped configs, every error at once with dotted paths and file:line:col.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { issuesOf, writeConfig } from './helpers.ts';

describe('shipped configs', () => {
  it('mnist-mlp is the seed network: 784-128-10, Adam 1e-3, batch 128, 10 epochs, pixels in [0, 1]', () => {
    const { config } = loadConfig('configs/mnist-mlp.yaml');
    assert.equal(config.name, 'mnist-mlp');
    assert.equal(config.seed, 42);
    const { dataset, normalize, validation, limit } = config.data;
    assert.deepEqual(
      { dataset, normalize, validation, limit },
      { dataset: 'mnist', normalize: 'scale01', validation: 0.1, limit: null },
    );
    assert.deepEqual(config.model, { type: 'mlp', hidden: [128], activation: 'relu', dropout: 0 });
    assert.equal(config.trainer.optimizer.name, 'adam');
    assert.equal(config.trainer.optimizer.lr, 0.001);
    assert.equal(config.trainer.batchSize, 128);
    assert.equal(config.trainer.epochs, 10);
  });

  it('fashion-mlp is the same experiment on fashion', () => {
    const mnist = loadConfig('configs/mnist-mlp.yaml').config;
    const fashion = loadConfig('configs/fashion-mlp.yaml').config;
    assert.equal(fashion.data.dataset, 'fashion');
    assert.deepEqual({ ...fashion, name: 'x', data: mnist.data }, { ...mnist, name: 'x' });
  });

  it('mnist-cnn is conv32 → pool → conv64 → pool → dense128', () => {
    const { config } = loadConfig('configs/mnist-cnn.yaml');
    assert.equal(config.data.normalize, 'scale01');
    assert.equal(config.model.type, 'cnn');
    if (config.model.type !== 'cnn') return;
    assert.deepEqual(
      config.model.conv.map((c) => [c.filters, c.kernel, c.stride, c.padding, c.activation, c.pool]),
      [
        [32, 3, 1, 'valid', 'relu', 2],
        [64, 3, 1, 'valid', 'relu', 2],
      ],
    );
    assert.deepEqual(config.model.dense, [128]);
    assert.equal(config.trainer.optimizer.lr, 0.001);
  });
});

// Line numbers below are those of this text; columns count from 1.
const BAD = `name: bad
seed: -1
data:
  dataset: cifar
model:
  type: mlp
  hidden: [128, 0]
  activation: relux
trainer:
  batchsize: 64
  optimizer:
    lr: fast
`;

describe('loadConfig errors', () => {
  it('reports every issue at once with paths and file:line:col', () => {
    const file = writeConfig('bad.yaml', BAD);
    const issues = issuesOf(() => loadConfig(file));
    const summary = issues.map((i) => [i.path, i.location?.slice(file.length)]);
    assert.deepEqual(summary, [
      ['seed', ':2:7'],
      ['data.dataset', ':4:12'],
      ['model.hidden.1', ':7:17'],
      ['model.activation', ':8:15'],
      ['trainer.batchsize', ':10:3'],
      ['trainer.optimizer.lr', ':12:9'],
    ]);
    const message = (path: string) => issues.find((i) => i.path === path)?.message;
    assert.equal(message('seed'), 'expected an integer ≥ 0, got -1');
    assert.match(message('data.dataset') ?? '', /unknown dataset 'cifar'.*mnist, fashion, idx:<dir>/);
    assert.equal(message('model.hidden.1'), 'expected an integer ≥ 1, got 0');
    assert.match(message('model.activation') ?? '', /^expected one of relu, elu, .*swish, got 'relux'$/);
    assert.match(
      message('trainer.batchsize') ?? '',
      /^unknown key 'batchsize' \(valid keys: mode, epochs, batchSize.*\); did you mean 'batchSize'\?$/,
    );
    assert.equal(message('trainer.optimizer.lr'), "expected a number > 0, got 'fast'");
  });

  it('points a missing required key at its parent mapping', () => {
    const file = writeConfig('cnn.yaml', 'model:\n  type: cnn\n  conv:\n    - kernel: 5\n');
    const issues = issuesOf(() => loadConfig(file));
    assert.deepEqual(issues, [
      { path: 'model.conv.0.filters', message: 'missing; expected an integer ≥ 1', location: `${file}:4:7` },
    ]);
  });

  it('checks keys against the variant the tag selects, inside list elements too', () => {
    const file = writeConfig(
      'v.yaml',
      'model:\n  type: cnn\n  hidden: [3]\n  conv:\n    - {filters: 8, kernal: 5}\n    - 3\n',
    );
    const issues = issuesOf(() => loadConfig(file));
    assert.deepEqual(
      issues.map((i) => [i.path, i.location?.slice(file.length), i.message]),
      [
        ['model.hidden', ':3:3', "unknown key 'hidden' (valid keys: type, conv, dense, activation, dropout)"],
        [
          'model.conv.0.kernal',
          ':5:20',
          "unknown key 'kernal' (valid keys: filters, kernel, stride, padding, activation, batchNorm, pool); did you mean 'kernel'?",
        ],
        ['model.conv.1', ':6:7', 'expected a mapping of keys to values, got 3'],
      ],
    );
  });

  it('offers no suggestion for a key far from every valid one', () => {
    const file = writeConfig('far.yaml', 'colour: red\n');
    const [issue] = issuesOf(() => loadConfig(file));
    assert.equal(
      issue?.message,
      "unknown key 'colour' (valid keys: name, seed, backend, data, model, trainer, tasks, multitask, init, finetune)",
    );
    assert.equal(issue?.location, `${file}:1:1`);
  });

  it('gives YAML syntax errors with file:line:col', () => {
    const file = writeConfig('syntax.yaml', 'name: x\ntrainer:\n  epochs: 3\n  epochs: 4\n');
    const issues = issuesOf(() => loadConfig(file));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.location, `${file}:4:3`);
    assert.match(issues[0]?.message ?? '', /^YAML syntax: .*unique/);
  });

  it('requires a mapping at the top level', () => {
    const file = writeConfig('list.yaml', '- 1\n- 2\n');
    const [issue] = issuesOf(() => loadConfig(file));
    assert.match(issue?.message ?? '', /top level must be a mapping/);
  });

  it('names a missing file', () => {
    const [issue] = issuesOf(() => loadConfig('configs/does-not-exist.yaml'));
    assert.match(issue?.message ?? '', /cannot read config file configs\/does-not-exist\.yaml: no such file/);
  });
});

describe('loadConfig defaults', () => {
  it('resolves a file with one key to the defaults, named after the file', () => {
    const { config, sourceFile } = loadConfig(writeConfig('my run.yaml', 'seed: 7\n'));
    assert.equal(config.name, 'my-run');
    assert.equal(config.seed, 7);
    assert.equal(config.trainer.epochs, 10);
    assert.match(sourceFile, /my run\.yaml$/);
  });

  it('refuses an empty file (or one of comments only) instead of training every default', () => {
    for (const text of ['', '# nothing here\n\n', '---\n']) {
      const file = writeConfig('empty.yaml', text);
      let err: unknown;
      try {
        loadConfig(file);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /empty\.yaml: \(root\): the file is empty: it sets no keys/, JSON.stringify(text));
      assert.equal(err.exitCode, 3);
    }
  });

  it('refuses a YAML alias bomb as bad input naming the file', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const file = writeConfig('bomb.yaml', `${levels.join('\n')}\n`);
    let caught: unknown;
    try {
      loadConfig(file);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigError, String(caught));
    assert.equal(caught.exitCode, 3);
    assert.match(caught.message, /bomb\.yaml: \(root\): YAML aliases expand too much/);
  });

  it('treats a section whose keys are all commented out as empty', () => {
    const { config } = loadConfig(writeConfig('c.yaml', 'trainer:\n  # epochs: 3\nmodel:\n'));
    assert.equal(config.trainer.epochs, 10);
    assert.equal(config.model.type, 'mlp');
  });
});
