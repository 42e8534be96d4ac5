// What `mtl predict` reads off a checkpoint: format-2 preprocess.json as written, format-1 files (before
// inputs were described) from their input shape and model.json's metadata; and its CSV output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readCsv } from '../../src/data/csv/read.ts';
import { readModelCard } from '../../src/predict/model-card.ts';
import type { Prediction } from '../../src/predict/predict.ts';
import { predictionsCsv } from '../../src/predict/write.ts';
import { tempDir } from '../data/helpers.ts';

describe('model card', () => {
  it('reads a format-1 MNIST checkpoint as 28x28 grayscale with the class names of model.json', () => {
    const card = readModelCard({ inputShape: [784], steps: [] }, { classNames: [...'0123456789'] }, 1);
    assert.equal(card.input.kind, 'image');
    assert.deepEqual(
      card.input.kind === 'image' && [card.input.height, card.input.width, card.input.channels],
      [28, 28, 1],
    );
    assert.deepEqual(card.outputs, [{ name: 'label', labels: 'label', classes: [...'0123456789'] }]);
    assert.equal(card.multitask, false);
  });

  it('reads a format-1 multi-task checkpoint from its tasks metadata', () => {
    const tasks = [
      { name: 'left', labels: 'left', classNames: ['a', 'b'] },
      { name: 'right', labels: 'right', classNames: ['c', 'd'] },
    ];
    const card = readModelCard({ inputShape: [28, 28, 1], steps: [] }, { tasks }, 2);
    assert.equal(card.multitask, true);
    assert.deepEqual(
      card.outputs.map((o) => o.name),
      ['left', 'right'],
    );
  });

  it('refuses a checkpoint that names fewer outputs than the model has', () => {
    const pre = { inputShape: [4], steps: [], outputs: [{ name: 'a', labels: 'a', classes: ['x', 'y'] }] };
    assert.throws(() => readModelCard(pre, {}, 2), /describes 1 outputs but the model has 2/);
  });
});

describe('predictions CSV', () => {
  const single: Prediction[] = [{ input: 'a,1.png', class: 'y', probabilities: { x: 0.25, y: 0.75 } }];
  const multi: Prediction[] = [
    {
      input: 'r:1',
      tasks: { kind: { class: 'a', probabilities: { a: 0.6 } }, big: { class: 'no', probabilities: { no: 0.9 } } },
    },
  ];

  it('writes one probability column per class, quoting what needs it, and reads back', () => {
    const dir = tempDir('predict-csv');
    const file = path.join(dir, 'p.csv');
    fs.writeFileSync(file, predictionsCsv(single));
    const t = readCsv(file);
    assert.deepEqual(t.header, ['input', 'class', 'probability', 'p:x', 'p:y']);
    assert.deepEqual(t.rows[0], ['a,1.png', 'y', '0.75', '0.25', '0.75']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prefixes columns with the task and lists the top K with --top', () => {
    assert.equal(
      predictionsCsv(multi, 1),
      'input,kind.class,kind.probability,kind.top1,kind.top1_p,big.class,big.probability,big.top1,big.top1_p\nr:1,a,0.6,a,0.6,no,0.9,no,0.9\n',
    );
  });
});
