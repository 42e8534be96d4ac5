// Freeze plans of every strategy, over the blocks of the MLP and CNN presets: what trains in which
// phase, at which LR scale, and which plans refuse a model they cannot apply to.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../../src/config/defaults.ts';
import {
  blockOf,
  gradualPhaseAt,
  maxProbeEpochs,
  type PhasePlan,
  PlanError,
  planStrategy,
  probeConverged,
} from '../../../src/train/transfer/strategies/index.ts';

const FT = defaultConfig().finetune;
const MLP = ['dense_1', 'head'];
const CNN = ['conv_1', 'conv_2', 'dense_1', 'head'];

/** Blocks that train in a phase; everything else is frozen. */
const trained = (p: PhasePlan): string[] => p.groups.flatMap((g) => g.blocks).sort();

describe('blockOf', () => {
  it('keeps a conv layer and its BatchNorm in one block, and names the head', () => {
    assert.deepEqual(
      [
        'conv_1',
        'bn_1',
        'act_1',
        'pool_1',
        'conv_2',
        'bn_2',
        'flatten',
        'dense_1',
        'dropout_1',
        'head',
        'head_softmax',
      ].map(blockOf),
      ['conv_1', 'conv_1', 'conv_1', 'conv_1', 'conv_2', 'conv_2', 'flatten', 'dense_1', 'dense_1', 'head', 'head'],
    );
  });
});

describe('planStrategy', () => {
  it('full and reinit train every block in one group at the base LR', () => {
    for (const s of ['full', 'reinit'] as const) {
      const phases = planStrategy(s, CNN, FT);
      assert.equal(phases.length, 1);
      assert.deepEqual(phases[0]!.groups, [{ name: 'all', blocks: CNN, lrScale: 1 }]);
    }
  });

  it('linear-probe trains only the head; the whole backbone is frozen', () => {
    for (const blocks of [MLP, CNN]) {
      const [probe, ...rest] = planStrategy('linear-probe', blocks, FT);
      assert.equal(rest.length, 0);
      assert.deepEqual(probe!.groups, [{ name: 'head', blocks: ['head'], lrScale: 1 }]);
    }
  });

  it('lp-ft probes, then fine-tunes everything at ftLrScale', () => {
    const phases = planStrategy('lp-ft', CNN, { ...FT, ftLrScale: 0.05 });
    assert.deepEqual(
      phases.map((p) => p.name),
      ['probe', 'finetune'],
    );
    assert.deepEqual(trained(phases[0]!), ['head']);
    assert.deepEqual(trained(phases[1]!), [...CNN].sort());
    assert.deepEqual(
      phases[1]!.groups.map((g) => [g.name, g.lrScale]),
      [
        ['head', 0.05],
        ['backbone', 0.05],
      ],
    );
  });

  it('gradual unfreezes one block per phase from the top, each a group with LR / 2.6^depth', () => {
    const phases = planStrategy('gradual', CNN, FT);
    assert.equal(phases.length, 4);
    assert.deepEqual(phases.map(trained), [
      ['head'],
      ['dense_1', 'head'],
      ['conv_2', 'dense_1', 'head'],
      [...CNN].sort(),
    ]);
    const last = phases[3]!.groups;
    assert.deepEqual(
      last.map((g) => g.name),
      ['head', 'dense_1', 'conv_2', 'conv_1'],
    );
    for (const [depth, g] of last.entries())
      assert.ok(Math.abs(g.lrScale - 1 / 2.6 ** depth) < 1e-12, `${g.name}: ${g.lrScale}`);
    assert.ok(Math.abs(planStrategy('gradual', MLP, { ...FT, lrDecay: 4 })[1]!.groups[1]!.lrScale - 0.25) < 1e-12);
  });

  it('freeze-conv freezes the conv blocks only, and refuses a model without any', () => {
    const [phase] = planStrategy('freeze-conv', CNN, FT);
    assert.deepEqual(trained(phase!), ['dense_1', 'head']);
    assert.throws(
      () => planStrategy('freeze-conv', MLP, FT),
      (e: unknown) => e instanceof PlanError && /conv layers/.test(e.message),
    );
  });

  it('zero-shot trains nothing; a model without a head or a backbone is refused', () => {
    assert.deepEqual(planStrategy('zero-shot', MLP, FT), []);
    assert.throws(() => planStrategy('full', ['dense_1'], FT), PlanError);
    assert.throws(() => planStrategy('linear-probe', ['head'], FT), PlanError);
  });
});

describe('phase switching', () => {
  it('gradual: one more block every unfreezeEvery epochs, capped at the last phase', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((e) => gradualPhaseAt(e, 1, 4)),
      [0, 1, 2, 3, 3, 3],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((e) => gradualPhaseAt(e, 2, 4)),
      [0, 0, 1, 1, 2],
    );
  });

  it('lp-ft: the probe has converged when the latest monitor value did not improve', () => {
    assert.equal(probeConverged([0.5], 'max', 0), false);
    assert.equal(probeConverged([0.5, 0.6], 'max', 0), false);
    assert.equal(probeConverged([0.5, 0.6, 0.6], 'max', 0), true);
    assert.equal(probeConverged([0.5, 0.51], 'max', 0.02), true);
    assert.equal(probeConverged([0.9, 0.7], 'min', 0), false);
    assert.equal(probeConverged([0.7, 0.9], 'min', 0), true);
    assert.deepEqual([1, 2, 3, 10, 11].map(maxProbeEpochs), [1, 1, 1, 5, 5]);
  });
});
