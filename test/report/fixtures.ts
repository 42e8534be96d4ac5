// Run folders written by hand, in the shapes mtl writes them (and a sweep folder in the shape of
// issue 13), so chart specs can be checked against numbers worked out by hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function write(dir: string, name: string, value: unknown): void {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
}

function record(id: string, kind: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: id.split('-2026')[0],
    kind,
    status: 'completed',
    argv: ['train', 'configs/x.yaml'],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:01:00.000Z',
    seed: 42,
    backend: { name: 'cpu', gpu: false },
    versions: {},
    configHash: '0000000000000000',
    parentRunId: null,
    childRunIds: [],
    ...extra,
  };
}

function configYaml(o: { seed?: number; lr?: number; monitor?: string } = {}): string {
  return [
    'name: toy',
    `seed: ${o.seed ?? 42}`,
    'data:',
    '  dataset: mnist',
    'model:',
    '  type: mlp',
    '  hidden: [8]',
    'trainer:',
    '  epochs: 3',
    '  optimizer:',
    '    name: adam',
    `    lr: ${o.lr ?? 0.001}`,
    `  monitor: ${o.monitor ?? 'val.accuracy'}`,
    '',
  ].join('\n');
}

/** 2 classes: confusion [[8, 2], [1, 9]]; precision 8/9, 2/11... worked out in the tests. */
export const TOY_DETAIL = {
  dataset: 'toy',
  examples: 20,
  classNames: ['cat', 'dog'],
  confusion: [
    [8, 2],
    [1, 9],
  ],
  perClass: [
    { precision: 8 / 9, recall: 0.8, f1: 16 / 19, support: 10 },
    { precision: 9 / 11, recall: 0.9, f1: 6 / 7, support: 10 },
  ],
  roc: [
    { classIndex: 0, auc: 0.9, fpr: [0, 0.1, 1], tpr: [0, 0.8, 1] },
    { classIndex: 1, auc: 0.9, fpr: [0, 0.2, 1], tpr: [0, 0.9, 1] },
  ],
};

export interface TrainingRunOptions {
  seed?: number;
  lr?: number;
  /** Per epoch: [train loss, val loss, val accuracy]. */
  epochs?: Array<[number, number, number]>;
  bestEpoch?: number;
  testReport?: boolean;
  /** An eval file as older mtl wrote it (confusion and perClass, no roc or classNames). */
  oldEvalFile?: boolean;
  testAccuracy?: number;
}

export function writeTrainingRun(root: string, id: string, o: TrainingRunOptions = {}): string {
  const dir = join(root, id);
  const epochs = o.epochs ?? [
    [1.0, 0.9, 0.6],
    [0.5, 0.6, 0.8],
    [0.3, 0.7, 0.75],
  ];
  const best = o.bestEpoch ?? 2;
  write(dir, 'run.json', record(id, 'pretrain', { seed: o.seed ?? 42 }));
  write(dir, 'config.yaml', configYaml(o));
  const lines = epochs.map(([tl, vl, va], i) =>
    JSON.stringify({
      epoch: i + 1,
      seconds: 0.5 + i * 0.1,
      lr: 0.001,
      train: { loss: tl, accuracy: 1 - tl / 2 },
      val: { loss: vl, accuracy: va, macroF1: va - 0.01 },
    }),
  );
  write(dir, 'metrics.jsonl', `${lines.join('\n')}\n`);
  const bestRow = epochs[best - 1]!;
  write(dir, 'summary.json', {
    runId: id,
    kind: 'pretrain',
    status: 'completed',
    seed: o.seed ?? 42,
    epochs: epochs.length,
    bestEpoch: best,
    val: { loss: bestRow[1], accuracy: bestRow[2], macroF1: bestRow[2] - 0.01 },
    test: { loss: 0.5, accuracy: o.testAccuracy ?? 0.85, macroF1: 0.84, aucRoc: 0.9 },
    timing: { totalSeconds: 3, epochSeconds: { median: 0.6, min: 0.5, max: 0.7 }, samplesPerSecond: 1000 },
    data: { dataset: 'toy', train: 100, val: 20, test: 20, numClasses: 2 },
  });
  if (o.testReport ?? true) write(dir, 'test-report.json', { split: 'test', epoch: best, detail: TOY_DETAIL });
  if (o.oldEvalFile) {
    write(dir, 'eval/20260101-000200-000.json', {
      runId: id,
      checkpoint: 'best',
      dataset: 'toy',
      split: 'test',
      metrics: { loss: 0.5, accuracy: 0.85, perClass: TOY_DETAIL.perClass, confusion: TOY_DETAIL.confusion },
    });
  }
  return dir;
}

/** A transfer run with full, reinit and zero-shot over seeds 42 and 43; children next to it. */
export function writeTransferRun(root: string, id: string): string {
  const dir = join(root, id);
  const child = (strategy: string, seed: number, acc: number, val: number | null) => ({
    strategy,
    seed,
    runId: `${strategy}-s${seed}-20260101-000000-aaaa`,
    test: { loss: 0.5, accuracy: acc, macroF1: acc - 0.01, aucRoc: 0.95 },
    valAccuracy: val,
    bestEpoch: strategy === 'zero-shot' ? 0 : 2,
    seconds: 1,
    testExamples: 10000,
  });
  const full = [child('full', 42, 0.86, 0.85), child('full', 43, 0.88, 0.87)];
  const reinit = [child('reinit', 42, 0.8, 0.79), child('reinit', 43, 0.82, 0.81)];
  const zero = [child('zero-shot', 42, 0.1, null), child('zero-shot', 43, 0.1, null)];
  const ms = (mean: number, std: number) => ({ mean, std });
  const strat = (perSeed: ReturnType<typeof child>[], mean: number, std: number) => ({
    test: { accuracy: ms(mean, std), macroF1: ms(mean - 0.01, std), aucRoc: ms(0.95, 0), loss: ms(0.5, 0) },
    val: { accuracy: ms(mean, std) },
    epochsToBest: ms(2, 0),
    seconds: ms(1, 0),
    runIds: perSeed.map((c) => c.runId),
    perSeed,
  });
  write(dir, 'run.json', record(id, 'transfer', { childRunIds: [...full, ...reinit, ...zero].map((c) => c.runId) }));
  write(dir, 'summary.json', {
    runId: id,
    kind: 'transfer',
    status: 'completed',
    seed: 42,
    seeds: [42, 43],
    source: { runId: 'src', dataset: 'mnist', reused: false, epochs: 2, test: { accuracy: 0.97 } },
    target: { dataset: 'fashion', numClasses: 10, epochs: 2 },
    strategies: {
      full: strat(full, 0.87, Math.SQRT2 / 100),
      reinit: strat(reinit, 0.81, Math.SQRT2 / 100),
      'zero-shot': strat(zero, 0.1, 0),
    },
    gain: {
      full: { mean: 0.06, std: 0, se: 0.004, perSeed: [], verdict: 'helps' },
      'zero-shot': { mean: -0.71, std: 0, se: 0.004, perSeed: [], verdict: 'hurts' },
    },
    zeroShot: { normalization: 'source', chance: 0.1 },
    notes: ['full: transfer helps: +6.00 pp ± 0.00 target test accuracy vs training from scratch.'],
  });
  for (const c of [...full, ...reinit]) {
    writeTrainingRun(root, c.runId, {
      seed: c.seed,
      epochs: [
        [1, 0.8, c.valAccuracy! - 0.1],
        [0.5, 0.6, c.valAccuracy!],
      ],
      bestEpoch: 2,
    });
  }
  return dir;
}

/** A PCGrad multi-task run with gradient diagnostics and Δm against two single-task baselines. */
export function writeMultitaskRun(
  root: string,
  id: string,
  o: { gradients?: boolean; baselines?: boolean } = {},
): string {
  const dir = join(root, id);
  const epochs = [1, 2].map((epoch) => ({
    epoch,
    seconds: 1,
    lr: 0.001,
    train: { loss: 4 / epoch },
    val: {
      left: { loss: 2 / epoch, accuracy: 0.4 * epoch, macroF1: 0.3 },
      right: { loss: 2.2 / epoch, accuracy: 0.35 * epoch, macroF1: 0.3 },
    },
    trainTasks: { left: { loss: 2 / epoch, accuracy: 0.3 }, right: { loss: 2 / epoch, accuracy: 0.3 } },
    weights: { left: 0.5 + 0.1 * epoch, right: 1.5 - 0.1 * epoch },
    ...(o.gradients
      ? {
          gradients: {
            space: 'shared trunk',
            norms: {},
            cosine: { 'left/right': epoch === 1 ? -0.2 : 0.1 },
            conflictRate: { 'left/right': epoch === 1 ? 0.7 : 0.3 },
          },
        }
      : {}),
  }));
  write(dir, 'run.json', record(id, 'multitask'));
  write(dir, 'config.yaml', configYaml());
  write(dir, 'metrics.jsonl', `${epochs.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const task = (acc: number) => ({
    val: { loss: 1, accuracy: acc, macroF1: 0.3 },
    test: { loss: 1, accuracy: acc, macroF1: 0.3, aucRoc: 0.8 },
    dataset: 'multimnist',
    labels: 'left',
    numClasses: 2,
  });
  const baselineIds = ['base-left-20260101-000000-aaaa', 'base-right-20260101-000000-aaaa'];
  write(dir, 'summary.json', {
    runId: id,
    kind: 'multitask',
    status: 'completed',
    epochs: 2,
    bestEpoch: 2,
    tasks: { left: task(0.8), right: task(0.7) },
    multitask: { architecture: 'hard', weighting: o.gradients ? 'pcgrad' : 'equal', normalizeLosses: 'none' },
    ...(o.baselines
      ? {
          deltaM: {
            dropPct: 1.25,
            deltaPPct: -1.25,
            baselineRunIds: baselineIds,
            baselines: { left: { accuracy: 0.82 }, right: { accuracy: 0.7 } },
          },
        }
      : {}),
  });
  write(dir, 'test-report.json', { split: 'test', epoch: 2, tasks: { left: TOY_DETAIL, right: TOY_DETAIL } });
  if (o.baselines) {
    for (const [i, name] of ['left', 'right'].entries()) {
      const b = join(root, baselineIds[i]!);
      write(b, 'run.json', record(baselineIds[i]!, 'multitask'));
      write(
        b,
        'metrics.jsonl',
        `${[1, 2].map((epoch) => JSON.stringify({ epoch, val: { [name]: { loss: 1, accuracy: 0.41 * epoch } } })).join('\n')}\n`,
      );
      write(b, 'summary.json', { kind: 'multitask', tasks: { [name]: task(0.8) } });
    }
  }
  return dir;
}

/** A sweep folder in the shape of issue 13: 3 learning rates × 2 seeds, ASHA pruned one trial. */
export function writeSweep(root: string, id: string): string {
  const dir = join(root, id);
  const lrs = [0.0001, 0.001, 0.01];
  const trials = lrs.flatMap((lr, p) =>
    [42, 43].map((seed) => ({
      trialId: `t${p}${seed}`,
      runId: null,
      params: { 'trainer.optimizer.lr': lr, 'model.hidden': p === 2 ? [256, 128] : [128] },
      seed,
      status: p === 0 && seed === 43 ? 'pruned' : 'completed',
      val: { loss: 0.5, accuracy: 0.9 + p * 0.02 + (seed - 42) * 0.01 },
      test: { accuracy: 0.9 + p * 0.02 },
      epochs: p === 0 && seed === 43 ? 1 : 3,
    })),
  );
  const points = lrs.map((lr, p) => ({
    params: { 'trainer.optimizer.lr': lr, 'model.hidden': p === 2 ? [256, 128] : [128] },
    seeds: [42, 43],
    val: { accuracy: { mean: 0.905 + p * 0.02, std: 0.00707 } },
    test: { accuracy: { mean: 0.9 + p * 0.02, std: 0 } },
    completed: 2,
    trialIds: [`t${p}42`, `t${p}43`],
  }));
  write(dir, 'run.json', record(id, 'sweep'));
  write(dir, 'summary.json', {
    runId: id,
    kind: 'sweep',
    status: 'completed',
    metric: 'val.accuracy',
    method: 'grid',
    trials,
    points,
    best: { params: points[2]!.params, val: points[2]!.val, test: points[2]!.test },
    counts: { planned: 0, queued: 0, running: 0, completed: 5, pruned: 1, failed: 0 },
  });
  const events = [
    { type: 'rung', trialId: 't042', rung: 0, epoch: 1, rank: 1, of: 3, value: 0.87, cutoff: 0.86, action: 'continue' },
    { type: 'prune', trialId: 't043', rung: 0, epoch: 1, rank: 3, of: 3, value: 0.8, cutoff: 0.86 },
  ];
  write(dir, 'events.jsonl', `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return dir;
}
