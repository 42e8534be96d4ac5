import type { ResolvedConfig } from '../../config/types.ts';
import { type PreparedData, prepareData } from '../../data/prepare.ts';
import { type BackendInfo, backendRecord } from '../../engine/backend/backend.ts';
import { type ClassificationMetrics, classificationReport } from '../../metrics/report.ts';
import { type BuiltModel, buildModel } from '../../models/build.ts';
import { modelInputShape } from '../../models/registry.ts';
import { deriveSeed, Rng } from '../../random/rng.ts';
import { seedGlobalRandom } from '../../random/seeding.ts';
import { type DataPart, lazyGuards } from '../../resume/guards.ts';
import { hashConfig, type RunKind } from '../../runs/run-record.ts';
import { writeTestReport } from '../../runs/test-report.ts';
import { type CheckpointPlan, epochCheckpointer } from '../checkpointing.ts';
import { disposeSplit, toDevice } from '../device-data.ts';
import {
  type EpochRecord,
  type LoopCallbacks,
  type LoopProgram,
  type LoopResult,
  runLoop,
  type ValidationResult,
} from '../loop.ts';
import { createOptimizer } from '../optimizers.ts';
import { restoreForResume } from '../restore.ts';
import { type ResumeTarget, type RunFolderOptions, type RunIdentity, runInRunFolder } from '../run-folder.ts';
import { epochSecondsSummary, peakRssMB, pickTestMetrics, type RunSummary } from '../summary.ts';
import { createClassifierProgram, type ParamGroup, predictProbs } from './classifier.ts';

export interface RunContext {
  runsDir: string;
  argv: string[];
  backend: BackendInfo;
  /** Progress hooks (the CLI's bar or plain lines); train/ itself never prints. */
  callbacks?: LoopCallbacks;
  shouldStop?: () => boolean;
  /** Called once the run folder exists, so the CLI can say where it is. */
  onRunCreated?: (id: string, dir: string) => void;
  parentRunId?: string | null;
  /** A fixed run id (`mtl train --run-id`, set by `mtl sweep` for its trials); default: a new one. */
  runId?: string;
  kind?: RunKind;
  /** `mtl resume`: continue this run in its folder from its last completed epoch. */
  resume?: ResumeTarget;
}

/** How a trainer sets up its model: pretrain builds from scratch; finetune loads and freezes. */
export interface ModelSetup {
  built: BuiltModel;
  groups: ParamGroup[];
  /** Changes the parameter groups at epoch boundaries (lp-ft, gradual unfreezing); absent = fixed groups. */
  phase?: PhaseHook;
}

export interface PhaseHook {
  /** Called before each epoch with the epochs so far: new groups from this epoch on, or null to keep them. */
  beginEpoch(epoch: number, history: readonly EpochRecord[]): ParamGroup[] | null;
  /** Fields added to the epoch's metrics.jsonl record (e.g. the phase and which blocks train). */
  describe?(): Record<string, unknown>;
  /** The hook's own state for a resume (which phase runs), as JSON. */
  saveState?(): unknown;
  /** Puts saveState's value back; returns that phase's groups (null: keep the current ones). */
  restoreState?(state: unknown): ParamGroup[] | null;
}

export type ModelSetupFn = (config: ResolvedConfig, data: PreparedData, rng: Rng) => Promise<ModelSetup>;

export const scratchSetup: ModelSetupFn = async (config, data, rng) => {
  const built = buildModel(config.model, {
    imageShape: data.dataset.inputShape,
    numClasses: data.dataset.numClasses,
    rng,
  });
  const layers = built.model.layers.filter((l) => l.trainableWeights.length > 0);
  return { built, groups: [{ name: 'all', layers, optimizer: createOptimizer(config.trainer.optimizer), lrScale: 1 }] };
};

export async function runSingleTask(
  config: ResolvedConfig,
  ctx: RunContext,
  setup: ModelSetupFn = scratchSetup,
): Promise<RunSummary> {
  return runInConfigRunFolder(config, ctx, (run) => trainAndEvaluate(config, ctx, setup, run));
}

/** Creates the run folder of a single-task config, runs `body` in it, and records how it ended. */
export function runInConfigRunFolder(
  config: ResolvedConfig,
  ctx: RunContext,
  body: (run: RunIdentity) => Promise<RunSummary>,
): Promise<RunSummary> {
  const kind = ctx.kind ?? (config.trainer.mode === 'finetune' ? 'finetune' : 'pretrain');
  return runInRunFolder(runFolderOptions(config, ctx, kind), body);
}

/** run.json's fields and config.yaml for a run of `config`. */
export function runFolderOptions(config: ResolvedConfig, ctx: RunContext, kind: RunKind): RunFolderOptions {
  return {
    runsDir: ctx.runsDir,
    name: config.name,
    id: ctx.runId,
    config,
    onCreated: ctx.onRunCreated,
    ...(ctx.resume ? { resume: ctx.resume } : {}),
    record: {
      kind,
      argv: ctx.argv,
      seed: config.seed,
      backend: backendRecord(ctx.backend),
      versions: ctx.backend.versions,
      configHash: hashConfig(config),
      parentRunId: ctx.parentRunId ?? null,
    },
  };
}

async function trainAndEvaluate(
  config: ResolvedConfig,
  ctx: RunContext,
  setup: ModelSetupFn,
  run: RunIdentity,
): Promise<RunSummary> {
  seedGlobalRandom(config.seed);
  const rng = new Rng(config.seed);
  // The model decides its input from the dataset's own shape (an MLP flattens, a CNN takes the image).
  let dataStart = performance.now();
  const data = await prepareData(config.data, config.seed, {
    inputShape: (shape) => modelInputShape(config.model, shape),
  });
  let dataMs = performance.now() - dataStart;
  const { built, groups: initialGroups, phase } = await setup(config, data, new Rng(deriveSeed(config.seed, 'init')));
  let groups = initialGroups;
  const optimizers = new Set(groups.map((g) => g.optimizer));
  const history: EpochRecord[] = [];
  dataStart = performance.now();
  const train = toDevice(data.train, built.inputShape);
  const val = data.val.n > 0 ? toDevice(data.val, built.inputShape) : null;
  dataMs += performance.now() - dataStart;
  const numClasses = data.dataset.numClasses;
  const classifier = createClassifierProgram({
    model: built.model,
    train,
    val,
    numClasses,
    batchSize: config.trainer.batchSize,
    groups,
    regularization: config.trainer.regularization,
    rng: rng.fork('shuffle'),
    scoreValidation: (probs, labels) => scoreValidation(config, numClasses, probs, labels),
  });
  const setGroups = (next: ParamGroup[]): void => {
    groups = next;
    next.forEach((g) => {
      optimizers.add(g.optimizer);
    });
    classifier.setGroups(next);
  };
  const program = phase ? withPhase(classifier, phase, history, setGroups) : classifier;
  const plan: CheckpointPlan = {
    run,
    model: built.model,
    preprocess: data.preprocess,
    metadata: { classNames: data.dataset.classNames, dataset: data.dataset.spec, runId: run.id },
    optimizers: () => groups.map((g) => ({ group: g.name, optimizer: g.optimizer })),
    program,
    guards: lazyGuards({
      config,
      versions: ctx.backend.versions,
      backend: backendRecord(ctx.backend),
      data: () => dataParts(data),
      dataExtra: data.preprocess,
    }),
  };
  const resume = await restoreForResume(plan);
  history.push(...(resume?.history ?? []));
  const writeEpoch = epochCheckpointer(plan, ctx.callbacks?.onEpochEnd);
  const result = await runLoop(program, {
    epochs: config.trainer.epochs,
    baseLr: config.trainer.optimizer.lr,
    schedule: config.trainer.schedule,
    monitor: config.trainer.monitor,
    earlyStopping: config.trainer.earlyStopping,
    callbacks: {
      ...ctx.callbacks,
      onEpochEnd: async (record, improved, state) => {
        history.push(record);
        await writeEpoch(record, improved, state);
      },
    },
    shouldStop: ctx.shouldStop,
    ...(resume ? { resume } : {}),
  });
  const testX = toDevice(data.test, built.inputShape);
  const testProbs = predictProbs(built.model, testX.x);
  const test = classificationReport(data.test.y, testProbs, numClasses);
  const { spec: dataset, classNames } = data.dataset;
  await writeTestReport(run.dir, result.bestEpoch, {
    dataset,
    classNames,
    yTrue: data.test.y,
    probs: testProbs,
    report: test,
  });
  [train, val, testX].forEach(disposeSplit);
  optimizers.forEach((o) => {
    o.dispose();
  });
  // A transfer runs many children in one process: each run frees its model's weights.
  built.model.dispose();
  return summarize(config, ctx, run, data, result, test, dataMs / 1000);
}

function scoreValidation(
  config: ResolvedConfig,
  numClasses: number,
  probs: Float32Array,
  labels: ArrayLike<number>,
): ValidationResult {
  const r = classificationReport(labels, probs, numClasses);
  const metrics = { loss: r.loss, accuracy: r.accuracy, macroF1: r.macroF1 };
  return {
    metrics,
    monitor: metrics[config.trainer.monitor.slice(4) as 'loss' | 'accuracy' | 'macroF1'],
    tieBreak: r.loss,
  };
}

/**
 * What the data fingerprint of a resume guard covers: every split as the run sees it, as its raw
 * features here and the preprocessing in the guard's `dataExtra` (4× fewer bytes than the floats,
 * which toDevice may never make on the host).
 */
function dataParts(data: PreparedData): DataPart[] {
  return (['train', 'val', 'test'] as const).flatMap((split) => [
    { name: `${split}.raw`, data: data[split].raw },
    { name: `${split}.y`, data: data[split].y },
  ]);
}

function summarize(
  config: ResolvedConfig,
  ctx: RunContext,
  run: RunIdentity,
  data: PreparedData,
  result: LoopResult,
  test: ClassificationMetrics,
  dataSeconds: number,
): RunSummary {
  const bestRecord = result.history.find((h) => h.epoch === result.bestEpoch);
  const trainSeconds = result.epochSeconds.reduce((a, b) => a + b, 0);
  return {
    runId: run.id,
    runDir: run.dir,
    kind: run.kind,
    status: result.interrupted ? 'interrupted' : 'completed',
    backend: backendRecord(ctx.backend),
    seed: config.seed,
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    val: (bestRecord?.val as RunSummary['val']) ?? null,
    test: pickTestMetrics(test),
    timing: {
      totalSeconds: round((performance.now() - run.started) / 1000, 3),
      epochSeconds: epochSecondsSummary(result.epochSeconds),
      samplesPerSecond: Math.round((data.train.n * result.history.length) / Math.max(trainSeconds, 1e-9)),
      dataSeconds: round(dataSeconds, 3),
    },
    memory: { peakRssMB: peakRssMB() },
    data: {
      dataset: data.dataset.spec,
      train: data.train.n,
      val: data.val.n,
      test: data.test.n,
      numClasses: data.dataset.numClasses,
      ...(data.source?.testSplit ? { testSplit: data.source.testSplit } : {}),
      ...(data.source?.fingerprint ? { fingerprint: data.source.fingerprint } : {}),
    },
    stoppedEarly: result.stoppedEarly,
  };
}

/** The program with the setup's phase hook run before each epoch (and its description in metrics.jsonl). */
function withPhase(
  program: LoopProgram,
  phase: PhaseHook,
  history: readonly EpochRecord[],
  setGroups: (g: ParamGroup[]) => void,
): LoopProgram {
  return {
    ...program,
    beginEpoch: (epoch) => {
      const next = phase.beginEpoch(epoch, history);
      if (next) setGroups(next);
      program.beginEpoch(epoch);
    },
    epochExtras: () => ({ ...program.epochExtras?.(), ...phase.describe?.() }),
    saveState: () => ({ ...program.saveState?.(), ...(phase.saveState ? { phase: phase.saveState() } : {}) }),
    restoreState: (state) => {
      program.restoreState?.(state);
      const next = state.phase !== undefined ? phase.restoreState?.(state.phase) : null;
      if (next) setGroups(next);
    },
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
