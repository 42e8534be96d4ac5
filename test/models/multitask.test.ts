// Multi-task architectures: layer names (heads `head_<task>…`), what the trunk exposes, cross-stitch
// initialisation, the MultiLeNet parameter count, and checkpoints loadable by tf.loadLayersModel.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { MultitaskArchitecture } from '../../src/config/types.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { buildMultiTaskModel, STITCH_SAME } from '../../src/models/multitask/build.ts';
import { MULTILENET } from '../../src/models/types/cnn.ts';
import { Rng } from '../../src/random/rng.ts';

before(async () => {
  await initBackend('wasm', {});
});

const heads = [
  { task: 'left', hidden: [50], classes: 10 },
  { task: 'right', hidden: [50], classes: 10 },
];
const build = (architecture: MultitaskArchitecture) =>
  buildMultiTaskModel(MULTILENET, { architecture, inputShape: [28, 28, 1], heads, experts: 3, rng: new Rng(1) });

describe('multi-task models', () => {
  it('hard sharing is MultiLeNet: 21,330 shared parameters + two 50→50→10 heads', () => {
    const m = build('hard');
    // conv 1→10 5×5 (260) + conv 10→20 5×5 (5,020) + fc 320→50 (16,050); head 50·50+50 + 50·10+10 = 3,060.
    assert.equal(
      m.sharedLayers.reduce((a, l) => a + l.countParams(), 0),
      21330,
    );
    assert.equal(m.model.countParams(), 21330 + 2 * 3060);
    assert.deepEqual(
      m.heads.map((h) => h.map((l) => l.name)),
      [
        ['head_left_1', 'head_left'],
        ['head_right_1', 'head_right'],
      ],
    );
    assert.deepEqual(m.model.outputNames, ['head_left_softmax', 'head_right_softmax']);
    assert.equal(m.trunk.outputs.length, 1);
    assert.deepEqual(m.repIndex, [0, 0]);
    m.model.dispose();
  });

  it('cross-stitch: a column per task and mixing units initialised to 0.9 / 0.1', () => {
    const m = build('cross-stitch');
    assert.equal(m.trunk.outputs.length, 2);
    assert.ok(
      m.sharedLayers.some((l) => l.name === 'col_left_conv_1') &&
        m.sharedLayers.some((l) => l.name === 'col_right_dense_1'),
    );
    const units = m.sharedLayers.filter((l) => l.name.startsWith('stitch_'));
    assert.equal(units.length, 6, 'one unit per task after each of the three stages');
    const left = m.model.getLayer('stitch_2_left').getWeights()[0]!.dataSync();
    const right = m.model.getLayer('stitch_2_right').getWeights()[0]!.dataSync();
    assert.deepEqual(
      Array.from(left, (v) => +v.toFixed(6)),
      [STITCH_SAME, +(1 - STITCH_SAME).toFixed(6)],
    );
    assert.deepEqual(
      Array.from(right, (v) => +v.toFixed(6)),
      [+(1 - STITCH_SAME).toFixed(6), STITCH_SAME],
    );
    m.model.dispose();
  });

  it('mmoe: experts shared by all tasks, a softmax gate per task', () => {
    const m = build('mmoe');
    assert.equal(m.sharedLayers.filter((l) => l.name.endsWith('conv_1')).length, 3);
    assert.deepEqual(
      m.sharedLayers.filter((l) => l.name.startsWith('gate_')).map((l) => l.name),
      ['gate_left', 'gate_right'],
    );
    const gates = tf.tidy(() => {
      const gate = tf.model({
        inputs: m.model.inputs,
        outputs: m.model.getLayer('gate_left').output as tf.SymbolicTensor,
      });
      return (gate.predict(tf.ones([2, 28, 28, 1])) as tf.Tensor).sum(-1).arraySync() as number[];
    });
    gates.forEach((s) => {
      assert.ok(Math.abs(s - 1) < 1e-5, 'gate weights sum to 1');
    });
    m.model.dispose();
  });

  for (const architecture of ['hard', 'cross-stitch', 'mmoe'] as const) {
    it(`${architecture}: the saved model reloads with plain tf.loadLayersModel and predicts the same`, async () => {
      const m = build(architecture);
      const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
      const before = (m.model.predict(x) as tf.Tensor[]).map((t) => t.arraySync());
      let artifacts: tf.io.ModelArtifacts | undefined;
      await m.model.save(
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      const after = (loaded.predict(x) as tf.Tensor[]).map((t) => t.arraySync());
      assert.deepEqual(after, before);
      m.model.dispose();
      loaded.dispose();
      x.dispose();
    });
  }
});
