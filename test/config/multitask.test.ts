// The tasks: and multitask: sections: defaults, the exact method names, and the cross-field checks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

const parse = (raw: object) => configSchema.safeParse({ name: 'x', ...raw });
const messages = (raw: object): string[] => {
  const r = parse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const mt = { trainer: { mode: 'multitask' }, data: { dataset: 'multimnist' } };

describe('multitask config', () => {
  it('fills task defaults', () => {
    const r = parse({ ...mt, tasks: [{ name: 'left', labels: 'left' }] });
    assert.ok(r.success);
    assert.deepEqual(r.data.tasks[0], {
      name: 'left',
      labels: 'left',
      dataset: null,
      head: { hidden: [50], classes: null },
      loss: 'crossEntropy',
      metrics: [{ name: 'accuracy', direction: 'higher' }],
      weight: 1,
    });
  });

  it('accepts exactly the documented architectures and weightings', () => {
    for (const a of ['hard', 'cross-stitch', 'mmoe'])
      assert.ok(parse({ ...mt, tasks: [{ name: 'a' }], multitask: { architecture: a } }).success, a);
    for (const w of ['equal', 'static', 'uncertainty', 'dwa', 'rlw', 'gradnorm', 'pcgrad', 'mgda', 'cagrad']) {
      assert.ok(parse({ ...mt, tasks: [{ name: 'a' }], multitask: { weighting: w } }).success, w);
    }
    assert.match(
      messages({ ...mt, tasks: [{ name: 'a' }], multitask: { weighting: 'mgda-ub' } })[0]!,
      /multitask.weighting: expected one of equal, static/,
    );
  });

  it('needs tasks in multitask mode, and only there', () => {
    assert.deepEqual(messages(mt), ['tasks: trainer.mode multitask needs at least one task under tasks:']);
    assert.match(messages({ tasks: [{ name: 'a' }] }).join('\n'), /tasks are only used with trainer.mode: multitask/);
    assert.match(
      messages({ data: { dataset: 'multimnist' } }).join('\n'),
      /data.dataset: 'multimnist' has two labels per image/,
    );
  });

  it('rejects duplicate task names, bad names, unknown labels and a loss said to be higher-is-better', () => {
    assert.match(
      messages({ ...mt, tasks: [{ name: 'a' }, { name: 'a' }] }).join('\n'),
      /tasks.1.name: task name 'a' is used twice/,
    );
    assert.match(messages({ ...mt, tasks: [{ name: 'left-digit' }] }).join('\n'), /tasks.0.name: expected a task name/);
    assert.match(
      messages({ ...mt, tasks: [{ name: 'a', labels: 'middle' }] }).join('\n'),
      /tasks.0.labels: expected label, left, right, parity/,
    );
    assert.match(
      messages({ ...mt, tasks: [{ name: 'a', metrics: [{ name: 'loss' }] }] }).join('\n'),
      /metrics.0.direction: loss: lower is better/,
    );
    assert.ok(parse({ ...mt, tasks: [{ name: 'a', metrics: [{ name: 'loss', direction: 'lower' }] }] }).success);
  });

  it('ships configs that load, and --set reaches the multitask keys', () => {
    const { config } = loadConfig('configs/multimnist-hps.yaml', [
      'multitask.weighting=pcgrad',
      'multitask.architecture=mmoe',
    ]);
    assert.equal(config.multitask.weighting, 'pcgrad');
    assert.equal(config.multitask.architecture, 'mmoe');
    assert.deepEqual(
      config.tasks.map((t) => [t.name, t.labels]),
      [
        ['left', 'left'],
        ['right', 'right'],
      ],
    );
    const multi = loadConfig('configs/mnist-fashion-multi-input.yaml').config;
    assert.deepEqual(
      multi.tasks.map((t) => t.dataset),
      ['mnist', 'fashion'],
    );
    assert.throws(
      () => loadConfig('configs/multimnist-hps.yaml', ['multitask.weighting=nash']),
      (e: unknown) => e instanceof ConfigError && /--set multitask.weighting=nash/.test(JSON.stringify(e.issues)),
    );
  });
});
