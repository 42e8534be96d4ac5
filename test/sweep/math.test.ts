// The sweep's pure parts, by hand: ASHA's rungs and promotions, the median rule, search-space
// expansion and sampling, the sweep file's errors, trial ids, and points' mean ± std.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, UsageError } from '../../src/errors.ts';
import { hashConfig } from '../../src/runs/run-record.ts';
import { gridPoints, gridValues, parseParamFlag, randomPoints, splitTopLevel } from '../../src/sweep/params.ts';
import { planSweep } from '../../src/sweep/plan.ts';
import {
  ashaPromotes,
  ashaRungs,
  decide,
  MemoryRungStore,
  median,
  medianStops,
  rankOf,
} from '../../src/sweep/pruning.ts';
import { hasCommand, isResumable, recordedThreads } from '../../src/sweep/resume.ts';
import { loadSweepSpec } from '../../src/sweep/spec.ts';
import { trialOverhead } from '../../src/sweep/summary.ts';
import type { TrialResult } from '../../src/sweep/types.ts';
import { sampleRecord } from '../runs/helpers.ts';
import { summaryOf, trialResult } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..');

test('ASHA rungs: minEpochs·eta^k below the epoch budget', () => {
  assert.deepEqual(ashaRungs(1, 3, 10), [1, 3, 9]);
  assert.deepEqual(ashaRungs(1, 3, 9), [1, 3]); // epoch 9 is the end: nothing left to decide
  assert.deepEqual(ashaRungs(2, 2, 20), [2, 4, 8, 16]);
  assert.deepEqual(ashaRungs(5, 3, 5), []);
});

test('ASHA promotion: top ⌊n/eta⌋ of the rung (at least the best) go on', () => {
  // 6 values at a rung, eta 3: ⌊6/3⌋ = 2 go on; sorted 0.9, 0.8 | 0.7, 0.6, 0.5, 0.4.
  const rung = [0.5, 0.9, 0.7, 0.4, 0.8, 0.6];
  assert.deepEqual(ashaPromotes(0.8, rung, 3, 'max'), { promote: true, rank: 2, of: 6, keep: 2, cutoff: 0.8 });
  assert.deepEqual(ashaPromotes(0.7, rung, 3, 'max'), { promote: false, rank: 3, of: 6, keep: 2, cutoff: 0.8 });
  // Loss: lower is better; 0.4 and 0.5 are the top two.
  assert.equal(ashaPromotes(0.5, rung, 3, 'min').promote, true);
  assert.equal(ashaPromotes(0.6, rung, 3, 'min').promote, false);
  // n < eta: ⌊2/3⌋ = 0, so only a value matching the best so far goes on (Optuna's rule).
  assert.equal(ashaPromotes(0.7, [0.9, 0.7], 3, 'max').promote, false);
  assert.equal(ashaPromotes(0.9, [0.9, 0.7], 3, 'max').promote, true);
  // The first trial at a rung always goes on; ties share the better rank.
  assert.equal(ashaPromotes(0.1, [0.1], 3, 'max').promote, true);
  assert.equal(rankOf(0.8, [0.9, 0.8, 0.8, 0.7], 'max'), 2);
});

test('ASHA through the store: decisions only at rungs, with rung and rank', async () => {
  const store = new MemoryRungStore();
  const rule = { type: 'asha' as const, minEpochs: 1, eta: 2 };
  const report = (trialId: string, epoch: number, value: number) =>
    decide(rule, store, { trialId, epoch, value, best: value, maxEpochs: 4, direction: 'max' });
  assert.equal((await report('a', 1, 0.5))?.action, 'continue'); // alone at rung 0
  const b = await report('b', 1, 0.4); // ⌊2/2⌋ = 1 goes on: a (0.5); b ranks 2nd
  assert.deepEqual([b?.action, b?.rung, b?.rank, b?.of, b?.cutoff], ['stop', 0, 2, 2, 0.5]);
  assert.equal(await report('a', 3, 0.6), null); // epoch 3 is not a rung (rungs 1, 2)
  assert.equal((await report('a', 2, 0.6))?.rung, 1);
  // A retried trial reporting the same epoch again does not count twice.
  assert.equal((await report('b', 1, 0.4))?.of, 2);
});

test('median rule: best so far vs the median of the others at that epoch', async () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(medianStops(0.5, [0.6, 0.7], 3, 'max'), false); // too few others yet
  assert.equal(medianStops(0.5, [0.6, 0.7, 0.4], 3, 'max'), true); // median 0.6 > 0.5
  assert.equal(medianStops(0.65, [0.6, 0.7, 0.4], 3, 'max'), false);
  assert.equal(medianStops(0.3, [0.2, 0.4, 0.5], 3, 'min'), false); // loss 0.3 < median 0.4
  const store = new MemoryRungStore();
  const rule = { type: 'median' as const, minEpochs: 2, minTrials: 2 };
  const r = (trialId: string, epoch: number, value: number, best = value) =>
    decide(rule, store, { trialId, epoch, value, best, maxEpochs: 5, direction: 'max' });
  await r('a', 2, 0.8);
  await r('b', 2, 0.7);
  assert.equal(await r('c', 1, 0.1), null); // before minEpochs
  const d = await r('c', 2, 0.6);
  assert.deepEqual([d?.action, d?.cutoff, d?.of], ['stop', 0.75, 2]);
});

test('--param shorthand: YAML values split at top-level commas; ranges with options', () => {
  assert.deepEqual(splitTopLevel('[128],[256, 128],"a,b"'), ['[128]', '[256, 128]', '"a,b"']);
  assert.deepEqual(parseParamFlag('model.hidden=[128],[256,128]'), {
    key: 'model.hidden',
    spec: { kind: 'values', values: [[128], [256, 128]] },
  });
  assert.deepEqual(parseParamFlag('trainer.optimizer.lr=1e-4..1e-2:log:3').spec, {
    kind: 'range',
    min: 1e-4,
    max: 1e-2,
    log: true,
    int: false,
    steps: 3,
  });
  assert.throws(() => parseParamFlag('lr'), UsageError);
  assert.throws(() => parseParamFlag('lr=0..-1'), UsageError);
  assert.deepEqual(gridValues('lr', parseParamFlag('lr=1e-4..1e-2:log:3').spec), [1e-4, 1e-3, 1e-2]);
  assert.deepEqual(gridValues('w', parseParamFlag('w=1..10:int:4').spec), [1, 4, 7, 10]);
  assert.throws(() => gridValues('lr', parseParamFlag('lr=0.1..1').spec), /needs steps/);
});

test('grid is every combination, first key slowest; random draws are seeded and in range', () => {
  const grid = gridPoints({
    a: { kind: 'values', values: [1, 2] },
    b: { kind: 'values', values: ['x', 'y', 'z'] },
  });
  assert.deepEqual(
    grid.map((p) => `${p.a}${p.b}`),
    ['1x', '1y', '1z', '2x', '2y', '2z'],
  );
  const space = {
    lr: { kind: 'range' as const, min: 1e-4, max: 1e-2, log: true, int: false, steps: null },
    w: { kind: 'range' as const, min: 1, max: 3, log: false, int: true, steps: null },
  };
  const draws = randomPoints(space, 200, 7);
  assert.deepEqual(draws, randomPoints(space, 200, 7));
  assert.notDeepEqual(draws, randomPoints(space, 200, 8));
  assert.ok(draws.every((p) => (p.lr as number) >= 1e-4 && (p.lr as number) <= 1e-2));
  assert.deepEqual([...new Set(draws.map((p) => p.w))].sort(), [1, 2, 3]);
  // Log-uniform: about half the draws below the geometric middle 1e-3.
  const below = draws.filter((p) => (p.lr as number) < 1e-3).length;
  assert.ok(below > 70 && below < 130, `${below} of 200 below 1e-3`);
});

function sweepFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-sweep-spec-'));
  const file = join(dir, 'sweep.yaml');
  writeFileSync(file, text);
  return file;
}

test('a sweep file is checked strictly: every issue with file:line:col', () => {
  const file = sweepFile(
    `sweep:\n  base: ${join(ROOT, 'configs/mnist-mlp.yaml')}\n  method: grdi\n  seeds: 0\n  metric: test.accuracy\n  parameters:\n    trainer.optimizer.lr: { min: 0.1, max: 0.01 }\n  earlyTerminate: { type: asha, eta: 1 }\n  extra: 1\n`,
  );
  const err = (() => {
    try {
      loadSweepSpec(file);
    } catch (e) {
      return e as ConfigError;
    }
    assert.fail('expected a ConfigError');
  })();
  assert.ok(err instanceof ConfigError);
  const text = err.message;
  for (const expected of [
    `${file}:3:11: sweep.method: expected one of grid, random, got 'grdi'`,
    `${file}:4:10: sweep.seeds`,
    `${file}:5:11: sweep.metric`,
    `sweep.parameters.trainer.optimizer.lr.max: must be > min`,
    `sweep.earlyTerminate.eta`,
    `${file}:9:3: sweep.extra: unknown key 'extra'`,
  ]) {
    assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
  }
  // A base config that is not there: at the line of `base:`.
  const missing = sweepFile('sweep:\n  base: nope/missing.yaml\n  parameters:\n    trainer.optimizer.lr: [0.1, 0.2]\n');
  assert.equal(
    loadSweepSpec(missing).base,
    join(dirname(missing), 'nope/missing.yaml'),
    'a sweep folder reads without it',
  );
  assert.throws(
    () => loadSweepSpec(missing, {}, true),
    (e: Error) =>
      e instanceof ConfigError && e.message.includes(`${missing}:2:9: sweep.base: cannot read the base config`),
  );
});

test('plan: trial id = hash of the resolved config (seed included); seeds are base, +1, …', () => {
  const spec = loadSweepSpec(join(ROOT, 'configs/mnist-mlp.yaml'), {
    param: ['trainer.optimizer.lr=0.001,0.003', 'model.hidden=[64],[32,16]'],
    seeds: 2,
    set: ['trainer.epochs=2'],
  });
  const { trials, points } = planSweep(spec);
  assert.equal(points.length, 4);
  assert.equal(trials.length, 8);
  assert.deepEqual(
    trials.map((t) => t.seed),
    [42, 43, 42, 43, 42, 43, 42, 43],
  );
  for (const t of trials) {
    assert.equal(t.trialId, hashConfig(t.config));
    assert.equal(t.config?.seed, t.seed);
    assert.equal(t.config?.trainer.epochs, 2);
    assert.deepEqual(t.config?.model.type === 'mlp' && t.config.model.hidden, t.params['model.hidden']);
  }
  assert.equal(new Set(trials.map((t) => t.trialId)).size, 8);
  // A point whose value the schema refuses fails alone; if none can run the sweep is refused.
  const mixed = planSweep(loadSweepSpec(join(ROOT, 'configs/mnist-mlp.yaml'), { param: ['trainer.batchSize=0,64'] }));
  assert.equal(mixed.trials[0]?.config, null);
  assert.match(mixed.trials[0]?.error ?? '', /trainer\.batchSize/);
  assert.ok(mixed.trials[1]?.config);
  // The failed point is listed with the seeds it would have run (the base config's), not from 0.
  assert.deepEqual(
    mixed.trials.map((t) => t.seed),
    [42, 42],
  );
  const seeded = planSweep(
    loadSweepSpec(join(ROOT, 'configs/mnist-mlp.yaml'), { param: ['trainer.batchSize=0,64', 'seed=7'], seeds: 2 }),
  );
  assert.deepEqual(
    seeded.trials.map((t) => [t.seed, t.config === null]),
    [
      [7, true],
      [8, true],
      [7, false],
      [8, false],
    ],
  );
  assert.throws(
    () => planSweep(loadSweepSpec(join(ROOT, 'configs/mnist-mlp.yaml'), { param: ['trainer.batchsize=32,64'] })),
    /did you mean 'batchSize'/,
  );
});

test('summary: points are mean ± std over completed seeds; best by validation, never by test', () => {
  const plan = [
    { trialId: 'a1', point: 0, params: { lr: 1 }, seed: 1, config: null },
    { trialId: 'a2', point: 0, params: { lr: 1 }, seed: 2, config: null },
    { trialId: 'b1', point: 1, params: { lr: 2 }, seed: 1, config: null },
    { trialId: 'b2', point: 1, params: { lr: 2 }, seed: 2, config: null },
    { trialId: 'b3', point: 1, params: { lr: 2 }, seed: 3, config: null },
  ];
  const results = new Map([
    ['a1', trialResult('a1', 0.9, 0.5)],
    ['a2', trialResult('a2', 0.8, 0.5)],
    ['b1', trialResult('b1', 0.84, 0.99)],
    ['b2', trialResult('b2', 0.82, 0.99)],
    ['b3', trialResult('b3', 0.1, 0.1, 'pruned')],
  ]);
  const s = summaryOf(plan, results, new Date(1000));
  const a = s.points[0]!;
  assert.ok(Math.abs((a.val?.accuracy?.mean ?? 0) - 0.85) < 1e-12);
  assert.ok(Math.abs((a.val?.accuracy?.std ?? 0) - Math.sqrt(0.005)) < 1e-12); // sample std of 0.9, 0.8
  assert.equal(s.points[1]?.completed, 2); // the pruned seed is left out
  assert.ok(Math.abs((s.points[1]?.val?.accuracy?.mean ?? 0) - 0.83) < 1e-12);
  // a wins on validation (0.85 vs 0.83); b's far better test accuracy plays no part.
  assert.deepEqual(s.best?.params, { lr: 1 });
  assert.deepEqual(s.counts, { planned: 0, queued: 0, running: 0, completed: 4, pruned: 1, failed: 0 });
  assert.equal(s.timing.totalSeconds, 1);
});

test('per-trial overhead: the trial outside its run (seconds − the run’s totalSeconds), and its data time', () => {
  const r = (seconds: number, timing: Record<string, number> | null, status = 'completed') =>
    ({ status, seconds, summary: timing ? { timing } : null }) as unknown as TrialResult;
  assert.equal(trialOverhead([]), null);
  assert.equal(trialOverhead([r(5, null, 'failed')]), null, 'a failed trial has no run time to subtract');
  const o = trialOverhead([
    r(4.2, { totalSeconds: 3.1, dataSeconds: 0.4 }), // a host's first trial: the process started for it
    r(2.05, { totalSeconds: 2.0, dataSeconds: 0.03 }),
    r(2.3, { totalSeconds: 2.2, dataSeconds: 0.05 }, 'pruned'),
    r(1.0, { totalSeconds: 1.2 }), // clocks apart: never below 0; no dataSeconds (a multi-task run)
    r(9, { totalSeconds: 1 }, 'failed'),
  ]);
  assert.equal(o?.trials, 4);
  assert.deepEqual(o?.seconds, { median: 2.175, min: 1, max: 4.2 });
  assert.deepEqual(o?.startSeconds, { median: 0.075, min: 0, max: 1.1 });
  assert.deepEqual(o?.dataSeconds, { median: 0.05, min: 0.03, max: 0.4 });
});

test('`mtl resume` is detected from the command list, not from an exit code', () => {
  const help =
    'Usage: mtl [options] [command]\n\nOptions:\n  --resume-x  no\n\nCommands:\n  train [options] <config>  train\n';
  assert.equal(hasCommand(help, 'resume'), false);
  assert.equal(hasCommand(`${help}  resume [options] <run>   finish a run\n`, 'resume'), true);
  assert.equal(hasCommand(`${help}  resumes  other\n`, 'resume'), false);
});

test('a trial goes on from a run stopped with a checkpoint or completed, never from a failed one; with its threads', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mtl-resumable-'));
  const run = (name: string, status: string, files: string[], threads?: number): string => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'checkpoints', 'last'), { recursive: true });
    const backend = { name: 'wasm', gpu: false, ...(threads ? { threads } : {}) };
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify(sampleRecord({ id: name, status: status as 'running', backend })),
    );
    for (const f of files) writeFileSync(join(dir, f), '{}');
    return dir;
  };
  assert.equal(await isResumable(run('stopped', 'interrupted', ['checkpoints/last/model.json'], 2)), true);
  assert.equal(await isResumable(run('no-epoch', 'interrupted', [])), false);
  assert.equal(await isResumable(run('done', 'completed', ['summary.json'])), true);
  assert.equal(await isResumable(run('done-no-summary', 'completed', [])), false);
  assert.equal(await isResumable(run('failed', 'failed', ['checkpoints/last/model.json', 'summary.json'])), false);
  assert.equal(await isResumable(join(root, 'missing')), false);
  assert.equal(await recordedThreads(join(root, 'stopped')), 2);
  assert.equal(await recordedThreads(join(root, 'no-epoch')), null);
});
