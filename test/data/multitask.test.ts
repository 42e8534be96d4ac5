// MultiMNIST construction (Sener & Koltun's canvas, overlap and nearest resize), label columns and
// derived labels, and the multi-task data preparation (groups, splits, one normalisation).

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import {
  CANVAS,
  composeSplit,
  loadMultiDataset,
  OFFSET,
  overlayPair,
  PACK,
  resizeNearest,
} from '../../src/data/multi-datasets.ts';
import { decodeLabels, resolveLabels, type TaskSource } from '../../src/data/multi-labels.ts';
import { prepareMultiTaskData } from '../../src/data/multi-prepare.ts';
import { Rng } from '../../src/random/rng.ts';

const digit = (value: number): Uint8Array => new Uint8Array(784).fill(value);

describe('multimnist construction', () => {
  it('puts the left image at (0,0), the right at (6,6), keeping the brighter pixel where they overlap', () => {
    const canvas = new Uint8Array(CANVAS * CANVAS);
    overlayPair(digit(100), digit(200), canvas);
    assert.equal(canvas[0], 100, 'left only');
    assert.equal(canvas[OFFSET * CANVAS + OFFSET], 200, 'overlap: max(100, 200)');
    assert.equal(canvas[33 * CANVAS + 33], 200, 'right only');
    assert.equal(canvas[34 * CANVAS + 34], 0, 'beyond the right image');
    assert.equal(canvas[35 * CANVAS + 0], 0, 'neither');
    overlayPair(digit(250), digit(10), canvas);
    assert.equal(canvas[10 * CANVAS + 10], 250, 'overlap keeps the left when brighter');
  });

  it('resizes 36 → 28 by PIL nearest: source index ⌊(i + ½)·36/28⌋', () => {
    const src = Uint8Array.from({ length: 36 * 36 }, (_, k) => k % 36); // value = column
    const out = new Uint8Array(28 * 28);
    resizeNearest(src, 36, 28, out);
    const expected = Array.from({ length: 28 }, (_, c) => Math.floor(((c + 0.5) * 36) / 28));
    assert.deepEqual(Array.from(out.subarray(0, 28)), expected);
    assert.equal(expected[0], 0);
    assert.equal(expected[27], 35);
  });

  it('pairs every left image with a seeded partner and packs both labels', () => {
    const left = { x: new Uint8Array(3 * 784), y: Uint8Array.from([1, 2, 3]), n: 3 };
    const right = { x: new Uint8Array(5 * 784), y: Uint8Array.from([5, 6, 7, 8, 9]), n: 5 };
    const a = composeSplit(left, right, new Rng(1));
    const b = composeSplit(left, right, new Rng(1));
    assert.deepEqual(a.y, b.y, 'deterministic from the seed');
    assert.equal(a.n, 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(Math.floor(a.y[i]! / PACK), left.y[i]);
      assert.ok(a.y[i]! % PACK >= 5);
    }
  });

  it('builds MultiMNIST from the MNIST package, then reads it back from the cache identically', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'mtl-multi-'));
    const first = loadMultiDataset('multimnist', { cacheDir });
    const again = loadMultiDataset('multimnist', { cacheDir });
    assert.equal(first.raw.train.n, 60000);
    assert.equal(first.raw.test.n, 10000);
    assert.deepEqual(first.raw.inputShape, [28, 28, 1]);
    assert.deepEqual(again.raw.test.y, first.raw.test.y);
    assert.deepEqual(again.raw.test.x.subarray(0, 784 * 10), first.raw.test.x.subarray(0, 784 * 10));
    const lefts = new Set(Array.from(first.raw.test.y, (y) => Math.floor(y / PACK)));
    const rights = new Set(Array.from(first.raw.test.y, (y) => y % PACK));
    assert.equal(lefts.size, 10);
    assert.equal(rights.size, 10);
  });
});

describe('label columns', () => {
  const source: TaskSource = {
    raw: { spec: 'multimnist' } as TaskSource['raw'],
    columns: {
      left: { numClasses: 10, classNames: [], decode: (y) => Math.floor(y / PACK) },
      right: { numClasses: 10, classNames: [], decode: (y) => y % PACK },
    },
  };

  it('decodes columns and derived parity', () => {
    const packed = [57, 12, 90];
    assert.deepEqual(Array.from(decodeLabels(resolveLabels(source, 'left', 't'), packed)), [5, 1, 9]);
    assert.deepEqual(Array.from(decodeLabels(resolveLabels(source, 'right', 't'), packed)), [7, 2, 0]);
    const parity = resolveLabels(source, 'left.parity', 't');
    assert.equal(parity.numClasses, 2);
    assert.deepEqual(Array.from(decodeLabels(parity, packed)), [1, 1, 1]);
  });

  it('names the labels a dataset offers when a task asks for others', () => {
    assert.throws(
      () => resolveLabels(source, 'label', 'digit'),
      /task 'digit'.*no 'label' labels \(it offers left, right/,
    );
  });
});

describe('multi-task data preparation', () => {
  it('groups tasks by input, splits each group, fits one normalisation on all training pixels', async () => {
    const config = configSchema.parse({
      name: 'p',
      data: { dataset: 'mnist', limit: 300, normalize: 'standardize' },
      trainer: { mode: 'multitask' },
      tasks: [{ name: 'digit' }, { name: 'parity', labels: 'parity' }, { name: 'clothes', dataset: 'fashion' }],
    });
    const data = await prepareMultiTaskData(config.data, config.tasks, 7, { inputShape: [784] });
    assert.deepEqual(
      data.groups.map((g) => [g.dataset, g.train.n, g.val.n, g.test.n]),
      [
        ['mnist', 300, 33, 10000],
        ['fashion', 300, 33, 10000],
      ],
    );
    assert.deepEqual(
      data.tasks.map((t) => [t.name, t.group, t.numClasses]),
      [
        ['digit', 0, 10],
        ['parity', 0, 2],
        ['clothes', 1, 10],
      ],
    );
    const [digitTask, parityTask] = data.tasks;
    for (let i = 0; i < 300; i++) assert.equal(parityTask!.labels.train[i], digitTask!.labels.train[i]! % 2);
    assert.equal(data.preprocess.steps.length, 2);
    assert.ok(
      Object.keys(data.seeds).some((k) => k.includes('fashion')),
      'per-group seeds are recorded',
    );
  });
});
