import type { ResolvedConfig } from '../../config/types.ts';
import { type MultiTaskData, prepareMultiTaskData } from '../../data/multi-prepare.ts';
import { backendRecord } from '../../engine/backend/backend.ts';
import type { DetailInput } from '../../metrics/detail.ts';
import { classificationReport } from '../../metrics/report.ts';
import { buildMultiTaskModel } from '../../models/multitask/build.ts';
import { modelInputShape } from '../../models/registry.ts';
import { deriveSeed, Rng } from '../../random/rng.ts';
import { seedGlobalRandom } from '../../random/seeding.ts';
import { type DataPart, lazyGuards } from '../../resume/guards.ts';
import { writeMultiTaskTestReport } from '../../runs/test-report.ts';
import { type CheckpointPlan, epochCheckpointer } from '../checkpointing.ts';
import { type LoopResult, runLoop } from '../loop.ts';
import { createOptimizer } from '../optimizers.ts';
import { restoreForResume } from '../restore.ts';
import { type RunIdentity, runInRunFolder } from '../run-folder.ts';
import { type RunContext, runFolderOptions } from '../single/experiment.ts';
import { epochSecondsSummary, peakRssMB, pickTestMetrics } from '../summary.ts';
import { disposeTaskSplit, predictTasks, taskSplitToDevice } from './data.ts';
import { loadTeachers, type Teachers } from './distill.ts';
import { labelledReport, labelledRows, maskOf } from './labelled.ts';
import { createMultiTaskProgram } from './program.ts';
import type { MultiTaskSummary, TaskValMetrics } from './summary.ts';

export function runMultiTask(config: ResolvedConfig, ctx: RunContext): Promise<MultiTaskSummary> {
  return runInRunFolder(runFolderOptions(config, ctx, 'multitask'), (run) => trainAndEvaluate(config, ctx, run));
}

async function trainAndEvaluate(config: ResolvedConfig, ctx: RunContext, run: RunIdentity): Promise<MultiTaskSummary> {
  seedGlobalRandom(config.seed);
  const data = await prepareMultiTaskData(config.data, config.tasks, config.seed, {
    inputShape: (shape) => modelInputShape(config.model, shape),
  });
  const inputShape = data.preprocess.inputShape;
  const m = buildMultiTaskModel(config.model, {
    architecture: config.multitask.architecture,
    inputShape,
    experts: config.multitask.experts,
    heads: config.tasks.map((t, i) => ({ task: t.name, hidden: t.head.hidden, classes: data.tasks[i]!.numClasses })),
    rng: new Rng(deriveSeed(config.seed, 'init')),
  });
  const teachers = await loadTeachers(config, ctx.runsDir, data);
  const train = taskSplitToDevice(data, 'train', inputShape);
  const val = data.groups.every((g) => g.val.n > 0) ? taskSplitToDevice(data, 'val', inputShape) : null;
  const optimizer = createOptimizer(config.trainer.optimizer);
  const program = createMultiTaskProgram({
    model: m,
    tasks: config.tasks,
    taskInfo: data.tasks.map((t) => {
      const masked = maskOf(t.labels.train);
      return { group: t.group, numClasses: t.numClasses, ...(masked ? { masked } : {}) };
    }),
    train,
    val,
    multitask: config.multitask,
    batchSize: config.trainer.batchSize,
    regularization: config.trainer.regularization,
    optimizer,
    rng: new Rng(config.seed),
    soft: teachers.soft,
    distill: teachers.settings,
    scoreValidation: (probs, labels) => scoreTasks(config, data, probs, labels),
  });
  const plan: CheckpointPlan = {
    run,
    model: m.model,
    preprocess: data.preprocess,
    metadata: checkpointMetadata(config, run, data),
    optimizers: () => [{ group: 'all', optimizer }],
    program,
    guards: lazyGuards({
      config,
      versions: ctx.backend.versions,
      backend: backendRecord(ctx.backend),
      data: () => dataParts(data),
      dataExtra: data.preprocess,
      extra: teachers.fingerprints(),
    }),
  };
  let result: LoopResult;
  try {
    const resume = await restoreForResume(plan);
    result = await runLoop(program, {
      epochs: config.trainer.epochs,
      baseLr: config.trainer.optimizer.lr,
      schedule: config.trainer.schedule,
      monitor: config.trainer.monitor,
      earlyStopping: config.trainer.earlyStopping,
      callbacks: { ...ctx.callbacks, onEpochEnd: epochCheckpointer(plan, ctx.callbacks?.onEpochEnd) },
      shouldStop: ctx.shouldStop,
      ...(resume ? { resume } : {}),
    });
  } finally {
    program.dispose();
    teachers.dispose();
    [train, val].forEach(disposeTaskSplit);
  }
  const testSplit = taskSplitToDevice(data, 'test', inputShape);
  const testProbs = predictTasks(
    m.model,
    testSplit,
    data.tasks.map((t) => t.group),
  );
  disposeTaskSplit(testSplit);
  await writeMultiTaskTestReport(run.dir, result.bestEpoch, testDetailInputs(data, testProbs));
  optimizer.dispose();
  m.model.dispose();
  return summarize(config, ctx, run, data, result, testProbs, teachers);
}

/** What test-report.json needs per task (the report is recomputed: the summary keeps only its scalars). */
function testDetailInputs(data: MultiTaskData, testProbs: Float32Array[]): Record<string, DetailInput> {
  return Object.fromEntries(
    data.tasks.map((t, i) => {
      // Rows without this task's label (a table's empty cell) are not part of its test report.
      const { labels: yTrue, probs } = labelledRows(t.labels.test, testProbs[i]!, t.numClasses);
      const report = classificationReport(yTrue, probs, t.numClasses);
      const dataset = data.groups[t.group]!.dataset;
      return [t.name, { dataset, classNames: t.classNames, yTrue, probs, report }];
    }),
  );
}

/**
 * Validation metrics per task; the monitor is the mean over tasks of trainer.monitor's metric, ties go to the lower
 * mean loss.
 */
function scoreTasks(config: ResolvedConfig, data: MultiTaskData, probs: Float32Array[], labels: Int32Array[]) {
  const metrics: Record<string, TaskValMetrics> = {};
  data.tasks.forEach((t, i) => {
    const r = labelledReport(labels[i]!, probs[i]!, t.numClasses);
    metrics[t.name] = { loss: r.loss, accuracy: r.accuracy, macroF1: r.macroF1 };
  });
  const key = config.trainer.monitor.slice(4) as keyof TaskValMetrics;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const tasks = Object.values(metrics);
  return { metrics, monitor: mean(tasks.map((m) => m[key])), tieBreak: mean(tasks.map((m) => m.loss)) };
}

/** model.json's metadata: the tasks with their labels, datasets and class names. */
function checkpointMetadata(config: ResolvedConfig, run: RunIdentity, data: MultiTaskData): Record<string, unknown> {
  return {
    runId: run.id,
    architecture: config.multitask.architecture,
    tasks: config.tasks.map((t, i) => ({
      name: t.name,
      labels: t.labels,
      dataset: data.groups[data.tasks[i]!.group]!.dataset,
      classNames: data.tasks[i]!.classNames,
    })),
  };
}

/**
 * What the data fingerprint of a resume guard covers: every group's raw inputs (the preprocessing is
 * the guard's `dataExtra`) and every task's labels.
 */
function dataParts(data: MultiTaskData): DataPart[] {
  const splits = ['train', 'val', 'test'] as const;
  return [
    ...data.groups.flatMap((g, k) => splits.map((s) => ({ name: `group${k}.${s}.raw`, data: g[s].raw }))),
    ...data.tasks.flatMap((t) => splits.map((s) => ({ name: `${t.name}.${s}.y`, data: t.labels[s] }))),
  ];
}

function summarize(
  config: ResolvedConfig,
  ctx: RunContext,
  run: RunIdentity,
  data: MultiTaskData,
  result: LoopResult,
  testProbs: Float32Array[],
  teachers: Teachers,
): MultiTaskSummary {
  const best = result.history.find((h) => h.epoch === result.bestEpoch);
  const tasks: MultiTaskSummary['tasks'] = {};
  data.tasks.forEach((t, i) => {
    const test = pickTestMetrics(labelledReport(t.labels.test, testProbs[i]!, t.numClasses));
    const val = (best?.val as Record<string, TaskValMetrics> | null)?.[t.name] ?? null;
    tasks[t.name] = {
      val,
      test,
      dataset: data.groups[t.group]!.dataset,
      labels: config.tasks[i]!.labels,
      numClasses: t.numClasses,
    };
  });
  const trainSeconds = result.epochSeconds.reduce((a, b) => a + b, 0);
  const trainExamples = data.groups.reduce((a, g) => a + g.train.n, 0);
  const last = result.history.at(-1);
  return {
    runId: run.id,
    runDir: run.dir,
    kind: 'multitask',
    status: result.interrupted ? 'interrupted' : 'completed',
    backend: backendRecord(ctx.backend),
    seed: config.seed,
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    tasks,
    multitask: {
      architecture: config.multitask.architecture,
      weighting: config.multitask.weighting,
      normalizeLosses: config.multitask.normalizeLosses,
      inputs: data.groups.length > 1 ? 'multi' : 'single',
      gradientSpace: (last?.gradients as { space?: string } | undefined)?.space ?? null,
      finalWeights: (last?.weights as Record<string, number> | null | undefined) ?? null,
    },
    ...(teachers.report ? { distill: teachers.studentReport(tasks) } : {}),
    timing: {
      totalSeconds: Math.round(performance.now() - run.started) / 1000,
      epochSeconds: epochSecondsSummary(result.epochSeconds),
      samplesPerSecond: Math.round((trainExamples * result.history.length) / Math.max(trainSeconds, 1e-9)),
    },
    memory: { peakRssMB: peakRssMB() },
    data: { groups: data.groups.map((g) => ({ dataset: g.dataset, train: g.train.n, val: g.val.n, test: g.test.n })) },
    stoppedEarly: result.stoppedEarly,
  };
}
