// The shapes a sweep is made of: its spec (sweep.yaml), its plan (plan.jsonl), what a trial returns,
// and the summary.json / `--json` document of issue 13 (names fixed: a reports tool charts them).
import type { ResolvedConfig } from '../config/types.ts';
import type { MeanStd, SecondsSummary } from '../metrics/report.ts';

/** A value a parameter can take: whatever YAML can say (a number, a list like [256, 128], a string). */
export type ParamValue = unknown;

/** One parameter's search space. */
export type ParamSpec =
  | { kind: 'values'; values: ParamValue[] }
  /** A numeric range; grid needs `steps` (evenly spaced, or geometrically with log). */
  | { kind: 'range'; min: number; max: number; log: boolean; int: boolean; steps: number | null };

export type EarlyTerminate =
  /** Asynchronous successive halving (Li et al. 2020): rungs at minEpochs·eta^k; top 1/eta go on. */
  | { type: 'asha'; minEpochs: number; eta: number }
  /** Optuna's MedianPruner: stop a trial whose best so far is worse than the median at that epoch. */
  | { type: 'median'; minEpochs: number; minTrials: number };

export interface SweepSpec {
  /** The sweep run's name (its run id starts with it). */
  name: string;
  /** Absolute path of the base experiment config. */
  base: string;
  method: 'grid' | 'random';
  /** random: how many points are drawn. */
  samples: number;
  /** Seeds the random draws of points only (training seeds are `seed` of the config, +1, +2 …). */
  seed: number;
  /** Training replicates per point. */
  seeds: number;
  /** `val.<metric>` or `tasks.<task>.val.<metric>`: picks the best point (validation only, never test). */
  metric: string;
  /** Dotted config paths (as for --set) → search space, in the order written. */
  parameters: Record<string, ParamSpec>;
  /** Fixed `--set key=value` overrides applied to the base config for every trial. */
  set: string[];
  earlyTerminate: EarlyTerminate | null;
  /** Attempts per trial (a crash is retried; a config or data error is not). */
  attempts: number;
}

/** One line of plan.jsonl: a trial drawn up front, so a sweep can be re-run and resumed exactly. */
export interface PlannedTrial {
  /** hashConfig of the resolved config (seed included): equals the trial run's run.json configHash. */
  trialId: string;
  /** 0-based index of the point the trial belongs to. */
  point: number;
  params: Record<string, ParamValue>;
  seed: number;
  /** The resolved config the trial trains, or null when the point's values are invalid. */
  config: ResolvedConfig | null;
  /** Why the point cannot run (schema issues), when config is null. */
  error?: string;
}

export type TrialStatus = 'planned' | 'queued' | 'running' | 'completed' | 'pruned' | 'failed';

/** Metrics as in a run's summary.json (`val` at the best epoch, `test`); multi-task: the task mean. */
export type MetricMap = Record<string, number>;

/** What a finished attempt returns: a local runner and a BullMQ job's return value alike. */
export interface TrialResult {
  trialId: string;
  status: 'completed' | 'pruned' | 'failed';
  runId: string | null;
  runDir: string | null;
  /** The host that ran it (checkpoints stay there when runs dirs are not shared). */
  host: string;
  /** The run's summary.json as `mtl train --json` printed it (null when it failed before one). */
  summary: Record<string, unknown> | null;
  /** metrics.jsonl records (the metric history). */
  history: Record<string, unknown>[];
  /** Pruning: the epoch it was stopped at and why. */
  pruned?: PruneDecision;
  error?: string;
  exitCode: number | null;
  attempt: number;
  seconds: number;
}

export interface PruneDecision {
  action: 'continue' | 'stop';
  pruner: 'asha' | 'median';
  epoch: number;
  rung?: number;
  rank?: number;
  of?: number;
  value: number;
  /** The value a trial had to match to go on (ASHA: the k-th best; median: the median). */
  cutoff: number;
  reason: string;
}

export interface SweepTrialSummary {
  trialId: string;
  runId: string | null;
  params: Record<string, ParamValue>;
  seed: number;
  status: TrialStatus;
  val: MetricMap | null;
  test: MetricMap | null;
  epochs: number | null;
  runDir?: string | null;
  host?: string;
  error?: string;
  pruned?: PruneDecision;
}

export interface SweepPoint {
  params: Record<string, ParamValue>;
  seeds: number[];
  /** `{<metric name>: {mean, std}}` over the point's completed trials; null before any completes. */
  val: Record<string, MeanStd> | null;
  test: { accuracy: MeanStd } | null;
  completed: number;
  /** Trials of the point that early termination stopped (left out of the statistics). */
  pruned: number;
  trialIds: string[];
}

export type SweepStatus = 'queued' | 'running' | 'completed' | 'interrupted' | 'cancelled';

export interface SweepSummary {
  runId: string;
  runDir: string;
  kind: 'sweep';
  status: SweepStatus;
  metric: string;
  method: 'grid' | 'random';
  trials: SweepTrialSummary[];
  points: SweepPoint[];
  best: { params: Record<string, ParamValue>; val: Record<string, MeanStd>; test: { accuracy: MeanStd } | null } | null;
  counts: Record<TrialStatus, number>;
  timing: {
    startedAt: string;
    endedAt: string | null;
    totalSeconds: number;
    trialSeconds: number;
    /** Where a trial's time goes, over the trials that ran (null until one did): see TrialOverhead. */
    perTrial: TrialOverhead | null;
  };
  queue?: { url: string; name: string };
}

/**
 * Per trial, as {median, min, max} over the completed and pruned ones: `seconds`, the whole trial as
 * the sweep saw it; `startSeconds`, the part outside its run (`seconds` − the run's
 * timing.totalSeconds: starting the process where a trial needs one — Node, TF.js, the kernels —
 * reading its config, handing over the result); `dataSeconds`, inside the run, reading the data from
 * the cache and preparing it (single-task trials).
 */
export interface TrialOverhead {
  trials: number;
  seconds: SecondsSummary;
  startSeconds: SecondsSummary;
  dataSeconds: SecondsSummary | null;
}
