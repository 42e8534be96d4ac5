// Chart specs from run folders written by hand: the rows behind each chart carry the numbers worked
// out here (row-normalised confusion, mean ± std over seeds, gain noise bands, log positions of a
// swept learning rate, pruning decisions), and old folders give fewer charts plus a reason.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { reportModel } from '../../src/report/build.ts';
import { loadRunFolder } from '../../src/report/load.ts';
import type { Chart, ReportModel, Row } from '../../src/report/types.ts';
import { writeMultitaskRun, writeSweep, writeTrainingRun, writeTransferRun } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'mtl-report-charts-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function modelOf(...dirs: string[]): Promise<ReportModel> {
  return reportModel(await Promise.all(dirs.map(loadRunFolder)));
}

function chart(model: ReportModel, suffix: string): Chart {
  const found = model.sections.flatMap((s) => s.charts).filter((c) => c.id.endsWith(suffix));
  assert.equal(
    found.length,
    1,
    `one chart ending in ${suffix}: ${model.sections.flatMap((s) => s.charts.map((c) => c.id)).join(', ')}`,
  );
  return found[0]!;
}

function ids(model: ReportModel): string[] {
  return model.sections.flatMap((s) => s.charts.map((c) => c.id));
}

const near = (a: unknown, b: number) => assert.ok(Math.abs((a as number) - b) < 1e-9, `${a} ≈ ${b}`);

describe('training run', () => {
  it('draws curves with the best epoch marked, and the classes from test-report.json', async () => {
    const model = await modelOf(writeTrainingRun(root, 'toy-20260101-000000-aaaa'));
    assert.deepEqual(
      ids(model).map((id) => id.replace('toy-20260101-000000-aaaa-', '')),
      [
        'curves-loss',
        'curves-accuracy',
        'curves-lr',
        'curves-seconds',
        'test-confusion',
        'test-confusion-normalised',
        'test-per-class',
        'test-roc',
      ],
    );
    const loss = chart(model, 'curves-loss').rows;
    assert.deepEqual(
      loss.map((r) => [r.split, r.epoch, r.value, r.best]),
      [
        ['train', 1, 1.0, false],
        ['train', 2, 0.5, false],
        ['train', 3, 0.3, false],
        ['validation', 1, 0.9, false],
        ['validation', 2, 0.6, true],
        ['validation', 3, 0.7, false],
      ],
    );
    // [[8, 2], [1, 9]]: row shares 0.8 / 0.2 and 0.1 / 0.9
    const norm = chart(model, 'test-confusion-normalised').rows;
    assert.deepEqual(
      norm.map((r) => [r.true, r.predicted, r.count, r.rate]),
      [
        ['cat', 'cat', 8, 0.8],
        ['cat', 'dog', 2, 0.2],
        ['dog', 'cat', 1, 0.1],
        ['dog', 'dog', 9, 0.9],
      ],
    );
    const roc = chart(model, 'test-roc').rows;
    assert.deepEqual(new Set(roc.map((r) => r.class)), new Set(['cat (AUC 0.900)', 'dog (AUC 0.900)']));
    const perClass = chart(model, 'test-per-class').rows.filter((r) => r.class === 'dog');
    assert.deepEqual(
      perClass.map((r) => [r.metric, r.value]),
      [
        ['precision', 9 / 11],
        ['recall', 0.9],
        ['F1', 6 / 7],
      ],
    );
  });

  it('an old run folder gets the charts it can and says what is missing', async () => {
    const dir = writeTrainingRun(root, 'old-20260101-000000-aaaa', { testReport: false });
    const model = await modelOf(dir);
    assert.equal(ids(model).length, 4, 'curves only');
    const classes = model.sections.find((s) => s.id.endsWith('-classes'))!;
    assert.match(classes.missing.join(' '), /mtl eval old-20260101-000000-aaaa/);
  });

  it('a run still running (no summary, a torn last line) draws the epochs so far', async () => {
    const dir = writeTrainingRun(root, 'live-20260101-000000-aaaa', { testReport: false });
    rmSync(join(dir, 'summary.json'));
    appendFileSync(join(dir, 'metrics.jsonl'), '{"epoch":4,"seconds":0.5,"tr');
    const model = await modelOf(dir);
    assert.equal(chart(model, 'curves-loss').rows.filter((r) => r.split === 'train').length, 3);
    const notes = model.sections[0]!.notes.join(' ');
    assert.match(notes, /metrics\.jsonl: 1 line\(s\) could not be parsed/);
    assert.match(model.sections[0]!.missing.join(' '), /No summary\.json yet/);
  });

  it('falls back on an older mtl eval file: confusion and per-class, no ROC, and says why', async () => {
    const dir = writeTrainingRun(root, 'evald-20260101-000000-aaaa', { testReport: false, oldEvalFile: true });
    const model = await modelOf(dir);
    assert.ok(ids(model).some((id) => id.endsWith('test-confusion')));
    assert.ok(!ids(model).some((id) => id.endsWith('test-roc')));
    const classes = model.sections.find((s) => s.id.endsWith('-classes'))!;
    assert.match(classes.missing.join(' '), /ROC curves: eval\/20260101-000200-000\.json/);
  });
});

describe('several runs', () => {
  it('overlays runs; seeds of one config become one series with mean ± std', async () => {
    const a = writeTrainingRun(root, 'cmp-a-20260101-000000-aaaa', {
      seed: 1,
      epochs: [
        [1, 0.8, 0.5],
        [0.5, 0.6, 0.7],
      ],
    });
    const b = writeTrainingRun(root, 'cmp-b-20260101-000000-aaaa', {
      seed: 2,
      epochs: [
        [1, 0.6, 0.7],
        [0.5, 0.4, 0.9],
      ],
    });
    const c = writeTrainingRun(root, 'cmp-c-20260101-000000-aaaa', { lr: 0.01, testAccuracy: 0.5 });
    const model = await modelOf(a, b, c);
    const compare = model.sections[0]!;
    assert.equal(compare.id, 'compare');
    assert.deepEqual(
      compare.tables[0]!.rows.map((r) => r[0]),
      ['seed', 'trainer.optimizer.lr'],
    );
    const acc = chart(model, 'compare-curves-accuracy').rows.filter((r) => r.split === 'validation');
    const seeds = acc.filter((r) => String(r.run).endsWith('(2 seeds)'));
    // epoch 1: 0.5 and 0.7 → mean 0.6, sample std √0.02
    near(seeds[0]!.value, 0.6);
    near(seeds[0]!.std, Math.sqrt(0.02));
    assert.deepEqual([...new Set(acc.map((r) => r.run))], ['lr=0.001 (2 seeds)', 'lr=0.01']);
    const bars = chart(model, 'compare-test-accuracy').rows.filter((r: Row) => r.kind === 'mean');
    assert.deepEqual(
      bars.map((r) => [r.run, r.accuracy]),
      [
        ['lr=0.001 (2 seeds)', 0.85],
        ['lr=0.01', 0.5],
      ],
    );
  });
});

describe('transfer run', () => {
  it('draws accuracy per strategy with seeds, the gain with its ± 2 SE band, and curves per strategy', async () => {
    const model = await modelOf(writeTransferRun(root, 'tr-20260101-000000-aaaa'));
    const acc = chart(model, '-strategy-accuracy').rows;
    assert.deepEqual(
      acc.filter((r) => r.kind === 'seed' && r.strategy === 'full').map((r) => r.accuracy),
      [0.86, 0.88],
    );
    const gain = chart(model, '-strategy-gain').rows.find((r) => r.strategy === 'full')!;
    near(gain.gainPp, 6);
    near(gain.lowPp, 5.2);
    near(gain.highPp, 6.8);
    assert.equal(gain.verdict, 'helps');
    const curves = chart(model, 'curves-accuracy').rows;
    assert.deepEqual([...new Set(curves.map((r) => r.run))], ['full', 'reinit']);
    // full at epoch 2: val accuracies 0.85 and 0.87 → mean 0.86
    near(curves.find((r) => r.run === 'full' && r.epoch === 2)!.value, 0.86);
    const best = model.sections.find((s) => s.id.endsWith('best-child'))!;
    assert.match(best.subtitle!, /^full, seed 43/);
    assert.equal(best.charts.length, 4);
  });
});

describe('multi-task run', () => {
  it('draws weights, gradient cosine and the baseline comparison when the run has them', async () => {
    const model = await modelOf(
      writeMultitaskRun(root, 'mt-20260101-000000-aaaa', { gradients: true, baselines: true }),
    );
    const weights = chart(model, '-weights').rows;
    assert.deepEqual(
      weights.filter((r) => r.task === 'left').map((r) => r.value),
      [0.6, 0.7],
    );
    assert.deepEqual(
      chart(model, '-gradient-cosine').rows.map((r) => [r.pair, r.value, r.conflictRate]),
      [
        ['left/right', -0.2, 0.7],
        ['left/right', 0.1, 0.3],
      ],
    );
    assert.deepEqual(
      chart(model, '-baselines').rows.map((r) => [r.task, r.model, r.accuracy]),
      [
        ['left', 'multi-task', 0.8],
        ['left', 'single-task', 0.82],
        ['right', 'multi-task', 0.7],
        ['right', 'single-task', 0.7],
      ],
    );
    const acc = chart(model, '-task-accuracy').rows;
    assert.deepEqual(
      acc.filter((r) => r.split === 'single-task').map((r) => [r.task, r.epoch, r.value]),
      [
        ['left', 1, 0.41],
        ['left', 2, 0.82],
        ['right', 1, 0.41],
        ['right', 2, 0.82],
      ],
    );
    assert.ok(ids(model).some((id) => id.endsWith('-left-confusion')));
  });

  it('without gradients or baselines it says how to get them', async () => {
    const model = await modelOf(writeMultitaskRun(root, 'mt-plain-20260101-000000-aaaa'));
    const tasks = model.sections.find((s) => s.id.endsWith('-tasks'))!;
    assert.ok(!ids(model).some((id) => id.endsWith('-gradient-cosine') || id.endsWith('-baselines')));
    assert.match(tasks.missing.join(' '), /--baselines/);
    assert.match(tasks.missing.join(' '), /this run used equal/);
  });
});

describe('sweep folder', () => {
  it('draws the metric against each parameter (log axis for the learning rate), parallel coordinates and pruning', async () => {
    const model = await modelOf(writeSweep(root, 'sw-20260101-000000-aaaa'));
    const lr = chart(model, '-param-trainer-optimizer-lr');
    const layers = (lr.spec as unknown as { layer: Array<{ encoding: { x: { scale?: { type?: string } } } }> }).layer;
    assert.equal(layers[0]!.encoding.x.scale?.type, 'log');
    const hidden = chart(model, '-param-model-hidden').rows;
    assert.deepEqual([...new Set(hidden.map((r) => r.value))], ['[128]', '[256,128]']);
    // lr 1e-4, 1e-3, 1e-2 on a log axis sit at 0, 0.5, 1
    const par = chart(model, '-parallel').rows.filter(
      (r) => r.parameter === 'trainer.optimizer.lr' && String(r.trialId).endsWith('42'),
    );
    assert.deepEqual(
      par.map((r) => r.position),
      [0, 0.5, 1],
    );
    const prune = chart(model, '-pruning').rows;
    assert.deepEqual(
      prune.map((r) => [r.trialId, r.action, r.rank]),
      [
        ['t042', 'continue', '1 of 3'],
        ['t043', 'stop', '3 of 3'],
      ],
    );
    const points = model.sections[0]!.tables.find((t) => t.title.startsWith('Points'))!;
    assert.deepEqual(points.rows[0], ['0.01', '[256,128]', '2', '0.9450 ± 0.0071', '0.9400 ± 0.0000']);
  });
});
