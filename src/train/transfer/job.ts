// `mtl transfer` as phases: resolve or pretrain the source → one fine-tune child run per strategy and
// seed (ordinary run folders, parent = the transfer run) → statistics and the transfer summary.
import { join } from 'node:path';
import { parseDatasetSpec } from '../../config/dataset-spec.ts';
import { stringifyConfig } from '../../config/print.ts';
import { configSchema } from '../../config/schema.ts';
import type { Config, DataConfig } from '../../config/types.ts';
import { ownDataOptions } from '../../data/own-options.ts';
import { loadRawDataset } from '../../data/registry.ts';
import { backendRecord } from '../../engine/backend/backend.ts';
import { UsageError } from '../../errors.ts';
import { writeFileAtomic } from '../../runs/atomic.ts';
import { hashConfig, updateRunRecord } from '../../runs/run-record.ts';
import { ResumeRefusedError, type RunFolderOptions, recordResume, runInRunFolder } from '../run-folder.ts';
import { runChildren } from './children.ts';
import type {
  RecordedTransferOptions,
  Source,
  TransferHooks,
  TransferOptions,
  TransferPlan,
  TransferRecord,
  TransferResume,
  TransferRun,
} from './job-types.ts';
import { pretrainSource } from './pretrain.ts';
import { type TransferSummary, transferNotes } from './report.ts';
import { datasetSlug, isDatasetRef, type SourceInfo, sourceConfigFor, sourceFromRun } from './source.ts';
import { type ChildResult, summarizeStrategies, transferGains } from './stats.ts';
import { DEFAULT_STRATEGIES, strategy } from './strategies/index.ts';
import { checkTargetFits, targetDataSettings } from './target-data.ts';

export { childName } from './children.ts';
export type {
  RecordedTransferOptions,
  TransferEvent,
  TransferHooks,
  TransferOptions,
  TransferRecord,
  TransferResume,
} from './job-types.ts';

export async function runTransfer(
  o: TransferOptions,
  hooks: TransferHooks,
  resume: TransferResume | null = null,
): Promise<TransferSummary> {
  const plan = await planTransfer(o);
  const options = transferRunFolder(o, hooks, plan);
  return runInRunFolder({ ...options, ...(resume ? { resume: resume.target } : {}) }, async ({ id, dir, started }) => {
    const run: TransferRun = { o, hooks, plan, id, dir, started, resume };
    if (resume) await checkTransferPlan(resume, options.record.configHash);
    const source: Source = plan.fromRun ? { ...plan.fromRun, status: 'completed' } : await pretrainSource(run);
    const link: Partial<TransferRecord> = { sourceRunId: source.runId, sourceReused: source.reused };
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
    options: recordedOptions(o),
  };
  return {
    runsDir: o.runsDir,
    name: plan.name,
    record,
    onCreated: (runId, runDir) => hooks.onEvent?.({ type: 'created', runId, runDir }),
  };
}

function recordedOptions(o: TransferOptions): RecordedTransferOptions {
  const { runsDir: _runsDir, argv: _argv, ...rest } = o;
  return rest;
}

/**
 * A resumed transfer must plan to the same thing as when it started (same hash of its plan). It is
 * listed in run.json's `resumes` with fromEpoch 0: each child records the epoch it continued from.
 */
async function checkTransferPlan(resume: TransferResume, hash: string): Promise<void> {
  const before = resume.target.record.configHash;
  if (before !== hash) {
    const change = `transfer plan (hash): ${before} → ${hash}`;
    if (!resume.target.force) {
      throw new ResumeRefusedError(
        `cannot resume ${resume.target.id} exactly: ${change}; use --force to resume anyway`,
      );
    }
    resume.target.changed.push(change);
  }
  await recordResume(resume.target, 0);
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
