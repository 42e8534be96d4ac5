// `mtl transfer` as phases: resolve or pretrain the source → one fine-tune child run per strategy and
// seed (ordinary run folders, parent = the transfer run) → statistics and the transfer summary.
import { join } from 'node:path';
import { parseDatasetSpec } from '../../config/dataset-spec.ts';
import { stringifyConfig } from '../../config/print.ts';
import { configSchema } from '../../config/schema.ts';
import type { BackendName, Config, DataConfig, FinetuneStrategy, ResolvedConfig } from '../../config/types.ts';
import { ownDataOptions } from '../../data/own-options.ts';
import { loadRawDataset } from '../../data/registry.ts';
import { type BackendInfo, backendRecord } from '../../engine/backend/backend.ts';
import { UsageError } from '../../errors.ts';
import { writeFileAtomic } from '../../runs/atomic.ts';
import { resolveRun } from '../../runs/resolve.ts';
import { hashConfig, type RunRecord, updateRunRecord } from '../../runs/run-record.ts';
import type { LoopCallbacks } from '../loop.ts';
import { type RunFolderOptions, runInRunFolder } from '../run-folder.ts';
import { type RunContext, runSingleTask } from '../single/experiment.ts';
import type { RunSummary } from '../summary.ts';
import { runFinetune } from './finetune-run.ts';
import { type TransferSummary, transferNotes } from './report.ts';
import {
  datasetSlug,
  findReusableSource,
  isDatasetRef,
  type ModelPreset,
  type SourceInfo,
  sourceConfigFor,
  sourceFromFolder,
  sourceFromRun,
} from './source.ts';
import { type ChildResult, summarizeStrategies, transferGains } from './stats.ts';
import { DEFAULT_STRATEGIES, strategy } from './strategies/index.ts';
import { checkTargetFits, targetDataSettings } from './target-data.ts';

export interface TransferOptions {
  from: string;
  to: string;
  model?: ModelPreset;
  /** Default DEFAULT_STRATEGIES. */
  strategies?: FinetuneStrategy[];
  /** Target epochs per child (default 10, the seed's). */
  epochs: number;
  /** Source pretraining epochs when it has to be trained (default 10). */
  sourceEpochs: number;
  /** Seeds per strategy; child i uses seed + i (default 1). */
  seeds: number;
  seed: number;
  limit: number | null;
  backend: BackendName;
  keepHead: boolean;
  runsDir: string;
  argv: string[];
  name?: string;
}

export type TransferEvent =
  | { type: 'created'; runId: string; runDir: string }
  | { type: 'source'; source: SourceInfo; trained: boolean }
  | { type: 'source-training'; config: ResolvedConfig }
  | { type: 'child'; strategy: FinetuneStrategy; seed: number; index: number; total: number }
  | { type: 'child-done'; result: ChildResult }
  | { type: 'zero-shot-skipped'; reason: string };

export interface TransferHooks {
  backend: BackendInfo;
  /** Progress callbacks for one training run, labelled (`source`, `full s42`…). */
  progress?: (label: string) => LoopCallbacks;
  shouldStop?: () => boolean;
  onEvent?: (event: TransferEvent) => void;
}

type TransferRecord = RunRecord & { sourceRunId: string | null; strategies: FinetuneStrategy[]; seeds: number[] };

/** Everything decided before anything trains, so bad requests fail in seconds. */
interface TransferPlan {
  name: string;
  strategies: FinetuneStrategy[];
  seeds: number[];
  sourceConfig: Config;
  /** `--from <run>`; null when the source is a dataset (reused or trained). */
  fromRun: SourceInfo | null;
  targetClasses: number;
  /** The target's data settings besides the source's (an images: target: the source's size and channels). */
  targetData: Partial<DataConfig>;
  /** Why zero-shot cannot run (class counts differ), or null. */
  zeroShotSkip: string | null;
}

/** What the phases after planning share. */
interface TransferRun {
  o: TransferOptions;
  hooks: TransferHooks;
  plan: TransferPlan;
  id: string;
  dir: string;
  started: number;
}

export async function runTransfer(o: TransferOptions, hooks: TransferHooks): Promise<TransferSummary> {
  const plan = await planTransfer(o);
  const options = transferRunFolder(o, hooks, plan);
  return runInRunFolder(options, async ({ id, dir, started }) => {
    const run: TransferRun = { o, hooks, plan, id, dir, started };
    const source: Source = plan.fromRun
      ? { ...plan.fromRun, status: 'completed' }
      : await pretrainSource(plan.sourceConfig, o, hooks);
    const link: Partial<TransferRecord> = { sourceRunId: source.runId };
    await updateRunRecord(dir, link);
    if (source.status !== 'completed') return summarize(run, source, [], 'interrupted');
    const base = targetConfigFor(o, source, plan.name, plan.targetData);
    await writeFileAtomic(join(dir, 'config.yaml'), stringifyConfig(base));
    const { results, interrupted } = await runChildren(run, base);
    return summarize(run, source, results, interrupted ? 'interrupted' : 'completed');
  });
}

async function planTransfer(o: TransferOptions): Promise<TransferPlan> {
  const to = parseDatasetSpec(o.to);
  if (!to.ok) throw new UsageError(`--to ${o.to}: ${to.reason}`);
  if (o.seeds < 1) throw new UsageError('--seeds must be at least 1');
  const strategies = [...new Set(o.strategies?.length ? o.strategies : DEFAULT_STRATEGIES)];
  const fromRun = isDatasetRef(o.from) ? null : await sourceFromRun(o.runsDir, o.from, o.model);
  const sourceConfig = fromRun?.config ?? sourceConfigFor({ ...o, epochs: o.sourceEpochs });
  const convNeeded = strategies.find((s) => strategy(s).needsConv);
  if (convNeeded && sourceConfig.model.type !== 'cnn') {
    throw new UsageError(`--strategy ${convNeeded} needs a model with conv layers: use --model cnn`);
  }
  const own = (data: DataConfig) => ownDataOptions(data, [data.label]);
  const source = await loadRawDataset(sourceConfig.data.dataset, { own: own(sourceConfig.data) });
  // The target's data: the source's settings (label column, delimiter…) with images at the source's size.
  const settings = targetDataSettings(source, o.to);
  const targetData: DataConfig = { ...sourceConfig.data, dataset: o.to, ...settings };
  const target = await loadRawDataset(o.to, { own: own(targetData) });
  checkTargetFits(source, target, o.to);
  const sameClasses = target.numClasses === source.numClasses;
  const classes = `'${sourceConfig.data.dataset}' has ${source.numClasses} classes, '${o.to}' has ${target.numClasses}`;
  if (o.keepHead && !sameClasses) throw new UsageError(`--keep-head needs the same number of classes: ${classes}`);
  return {
    name: o.name ?? `${datasetSlug(sourceConfig.data.dataset)}-to-${datasetSlug(o.to)}-${sourceConfig.model.type}`,
    strategies,
    seeds: Array.from({ length: o.seeds }, (_, i) => o.seed + i),
    sourceConfig,
    fromRun,
    targetClasses: target.numClasses,
    targetData: settings,
    zeroShotSkip: sameClasses ? null : `${classes}, so the source head cannot be scored on the target`,
  };
}

/** run.json of a transfer: the plan's strategies and seeds, and the source once it is known. */
function transferRunFolder(o: TransferOptions, hooks: TransferHooks, plan: TransferPlan): RunFolderOptions {
  const { strategies, seeds } = plan;
  const record: Omit<TransferRecord, 'id' | 'name' | 'status' | 'startedAt' | 'endedAt' | 'childRunIds'> = {
    kind: 'transfer',
    argv: o.argv,
    seed: o.seed,
    backend: backendRecord(hooks.backend),
    versions: hooks.backend.versions,
    configHash: hashConfig({
      source: hashConfig(plan.sourceConfig),
      to: o.to,
      epochs: o.epochs,
      keepHead: o.keepHead,
      strategies,
      seeds,
    }),
    parentRunId: null,
    sourceRunId: plan.fromRun?.runId ?? null,
    strategies,
    seeds,
  };
  return {
    runsDir: o.runsDir,
    name: plan.name,
    record,
    onCreated: (runId, runDir) => hooks.onEvent?.({ type: 'created', runId, runDir }),
  };
}

type Source = SourceInfo & { status: RunSummary['status'] };

/** Reuse a completed pretrain run of exactly this config (same hash), or train one now. */
async function pretrainSource(config: Config, o: TransferOptions, hooks: TransferHooks): Promise<Source> {
  const existing = await findReusableSource(o.runsDir, config);
  if (existing) {
    const source = { ...sourceFromFolder(existing), config, reused: true, status: 'completed' as const };
    hooks.onEvent?.({ type: 'source', source, trained: false });
    return source;
  }
  hooks.onEvent?.({ type: 'source-training', config });
  const summary = await runSingleTask(config, runContext(o, hooks, 'source', null, 'pretrain'));
  const run = await resolveRun(o.runsDir, summary.runId);
  const source =
    summary.status === 'completed'
      ? { ...sourceFromFolder(run), config, reused: false, status: summary.status }
      : {
          runId: run.id,
          runDir: run.dir,
          checkpointDir: '',
          test: summary.test,
          config,
          reused: false,
          status: summary.status,
        };
  hooks.onEvent?.({ type: 'source', source, trained: true });
  return source;
}

function runContext(
  o: TransferOptions,
  hooks: TransferHooks,
  label: string,
  parent: string | null,
  kind: 'pretrain' | 'finetune',
): RunContext {
  return {
    runsDir: o.runsDir,
    argv: o.argv,
    backend: hooks.backend,
    kind,
    parentRunId: parent,
    ...(hooks.progress ? { callbacks: hooks.progress(label) } : {}),
    ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
  };
}

/**
 * The children's shared config: the source's model, normalization kind and trainer settings, on
 * the target dataset (so normalization is fitted on the target's training split), in finetune mode.
 */
export function targetConfigFor(
  o: TransferOptions,
  source: SourceInfo,
  name: string,
  data: Partial<DataConfig> = {},
): Config {
  const s = source.config;
  const defaults = configSchema.parse({ name });
  return configSchema.parse({
    ...s,
    name,
    seed: o.seed,
    backend: o.backend,
    data: { ...s.data, ...data, dataset: o.to, limit: o.limit },
    trainer: { ...s.trainer, mode: 'finetune', epochs: o.epochs },
    init: { from: source.runId, keepHead: o.keepHead },
    finetune: defaults.finetune,
  });
}

/** `<name>-<strategy>`, cut to the 64 characters a run name may have. */
export function childName(name: string, strategy: FinetuneStrategy): string {
  return `${name.slice(0, 63 - strategy.length)}-${strategy}`;
}

/** Seeds outer, strategies inner: an interrupted transfer still has complete, paired seeds. */
async function runChildren(run: TransferRun, base: Config): Promise<{ results: ChildResult[]; interrupted: boolean }> {
  const { plan, hooks } = run;
  const jobs = plan.seeds.flatMap((seed, i) =>
    plan.strategies
      // An evaluate-only strategy (zero-shot) has no randomness: it runs once, with the first seed.
      .filter((s) => !strategy(s).evaluateOnly || (i === 0 && plan.zeroShotSkip === null))
      .map((strategy) => ({ strategy, seed })),
  );
  if (plan.strategies.includes('zero-shot') && plan.zeroShotSkip)
    hooks.onEvent?.({ type: 'zero-shot-skipped', reason: plan.zeroShotSkip });
  const results: ChildResult[] = [];
  const children: string[] = [];
  let linked: Promise<unknown> = Promise.resolve();
  for (const [index, { strategy, seed }] of jobs.entries()) {
    if (hooks.shouldStop?.()) return { results, interrupted: true };
    hooks.onEvent?.({ type: 'child', strategy, seed, index, total: jobs.length });
    const config: Config = {
      ...base,
      name: childName(base.name, strategy),
      seed,
      finetune: { ...base.finetune, strategy },
    };
    const ctx: RunContext = {
      ...runContext(run.o, hooks, `${strategy} s${seed}`, run.id, 'finetune'),
      onRunCreated: (childId) => {
        children.push(childId);
        linked = updateRunRecord(run.dir, { childRunIds: [...children] });
      },
    };
    const summary = await runFinetune(config, ctx);
    await linked;
    if (summary.status !== 'completed') return { results, interrupted: true };
    const result = childResult(strategy, summary);
    results.push(result);
    hooks.onEvent?.({ type: 'child-done', result });
  }
  return { results, interrupted: false };
}

function childResult(strategy: FinetuneStrategy, s: RunSummary): ChildResult {
  return {
    strategy,
    seed: s.seed,
    runId: s.runId,
    test: s.test,
    valAccuracy: s.val?.accuracy ?? null,
    bestEpoch: s.bestEpoch,
    seconds: s.timing.totalSeconds,
    testExamples: s.data?.test ?? 0,
  };
}

function summarize(
  run: TransferRun,
  source: Source,
  results: ChildResult[],
  status: 'completed' | 'interrupted',
): TransferSummary {
  const { o, plan, hooks } = run;
  const summary: TransferSummary = {
    runId: run.id,
    runDir: run.dir,
    kind: 'transfer',
    status,
    backend: backendRecord(hooks.backend),
    seed: o.seed,
    seeds: plan.seeds,
    model: source.config.model.type,
    source: {
      runId: source.runId,
      runDir: source.runDir,
      dataset: source.config.data.dataset,
      reused: source.reused,
      epochs: source.config.trainer.epochs,
      test: source.test,
    },
    target: {
      dataset: o.to,
      numClasses: plan.targetClasses,
      epochs: o.epochs,
      normalize: source.config.data.normalize,
      normalizationFittedOn: 'target training split',
    },
    strategies: summarizeStrategies(results),
    gain: transferGains(results),
    zeroShot: plan.zeroShotSkip
      ? { skipped: plan.zeroShotSkip }
      : { normalization: 'source checkpoint (the model as shipped)', chance: 1 / plan.targetClasses },
    notes: [],
    timing: { totalSeconds: Math.round(performance.now() - run.started) / 1000 },
  };
  summary.notes = transferNotes(summary, plan.strategies);
  return summary;
}
