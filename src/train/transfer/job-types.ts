// What the phases of `mtl transfer` share: its options, events and hooks, the run record it writes,
// and the context each of its runs (source, children) is started with.
import type { BackendName, Config, DataConfig, FinetuneStrategy, ResolvedConfig } from '../../config/types.ts';
import type { BackendInfo } from '../../engine/backend/backend.ts';
import type { RunRecord } from '../../runs/run-record.ts';
import type { LoopCallbacks } from '../loop.ts';
import type { ResumeTarget } from '../run-folder.ts';
import type { RunContext } from '../single/experiment.ts';
import type { RunSummary } from '../summary.ts';
import type { ModelPreset, SourceInfo } from './source.ts';
import type { ChildResult } from './stats.ts';

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
  /** A resumed transfer keeps a child that had completed before. */
  | { type: 'child-kept'; result: ChildResult }
  | { type: 'zero-shot-skipped'; reason: string };

export interface TransferHooks {
  backend: BackendInfo;
  /** Progress callbacks for one training run, labelled (`source`, `full s42`…). */
  progress?: (label: string) => LoopCallbacks;
  shouldStop?: () => boolean;
  onEvent?: (event: TransferEvent) => void;
}

/** What `mtl resume` needs to plan a transfer again: its options without the runs dir and argv. */
export type RecordedTransferOptions = Omit<TransferOptions, 'runsDir' | 'argv'>;

export type TransferRecord = RunRecord & {
  sourceRunId: string | null;
  /** false when this transfer trained its source (so a resumed transfer reports it the same way). */
  sourceReused?: boolean;
  strategies: FinetuneStrategy[];
  seeds: number[];
  options?: RecordedTransferOptions;
};

/** A transfer continued by `mtl resume`: its folder, and the runs it had started. */
export interface TransferResume {
  target: ResumeTarget;
  sourceRunId: string | null;
  childRunIds: string[];
}

/** Everything decided before anything trains, so bad requests fail in seconds. */
export interface TransferPlan {
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
export interface TransferRun {
  o: TransferOptions;
  hooks: TransferHooks;
  plan: TransferPlan;
  id: string;
  dir: string;
  started: number;
  resume: TransferResume | null;
}

export type Source = SourceInfo & { status: RunSummary['status'] };

export function runContext(
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
