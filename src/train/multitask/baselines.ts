// `mtl train <multitask config> --baselines [--seeds N]`: the multi-task run, each task trained alone
// with the same architecture and budget (reused when a completed run has the same config hash), and
// Δm in both conventions of the literature; over seeds, mean ± std.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetSource } from '../../config/data-schema.ts';
import type { ResolvedConfig, TaskConfig } from '../../config/types.ts';
import { deltaPPct, performanceDropPct, type TaskMetricEntry } from '../../metrics/multitask.ts';
import { type MeanStd, meanStd } from '../../metrics/report.ts';
import { writeJsonAtomic } from '../../runs/atomic.ts';
import { listRuns } from '../../runs/resolve.ts';
import { hashConfig } from '../../runs/run-record.ts';
import type { LoopCallbacks } from '../loop.ts';
import type { RunContext } from '../single/experiment.ts';
import { runMultiTask } from './experiment.ts';
import type { DeltaM, MultiTaskSummary } from './summary.ts';

export interface MultiTaskExperimentOptions {
  baselines: boolean;
  /** Seeds seed, seed+1, …, seed+N−1 (default 1). */
  seeds: number;
  /** Progress hooks for each run, by label (`multitask`, `single-task left`…). */
  progress?: (label: string) => LoopCallbacks | undefined;
  /** Told about each baseline run: trained now, or reused from the runs folder. */
  onBaseline?: (task: string, runId: string, reused: boolean) => void;
}

export interface MultiTaskAggregate {
  seeds: number[];
  runIds: string[];
  /** Per task, per test metric: mean ± std over seeds. */
  tasks: Record<string, Record<string, MeanStd>>;
  deltaM?: { dropPct: MeanStd; deltaPPct: MeanStd };
}

export interface MultiTaskExperimentResult {
  runs: MultiTaskSummary[];
  /** Only with --seeds > 1. */
  aggregate: MultiTaskAggregate | null;
}

export async function runMultiTaskExperiment(
  config: ResolvedConfig,
  ctx: RunContext,
  o: MultiTaskExperimentOptions,
): Promise<MultiTaskExperimentResult> {
  const runs: MultiTaskSummary[] = [];
  for (let s = 0; s < o.seeds; s++) {
    const cfg: ResolvedConfig = { ...config, seed: config.seed + s };
    const summary = await runMultiTask(cfg, {
      ...ctx,
      callbacks: o.progress?.(o.seeds > 1 ? `multitask seed ${cfg.seed}` : 'multitask') ?? ctx.callbacks,
    });
    runs.push(summary);
    if (summary.status !== 'completed') break;
    if (!o.baselines) continue;
    const baselines: MultiTaskSummary[] = [];
    for (const task of cfg.tasks) {
      baselines.push(await singleTaskBaseline(cfg, task, ctx, o));
      if (ctx.shouldStop?.()) return { runs, aggregate: null };
    }
    summary.deltaM = deltaM(cfg, summary, baselines);
    await writeJsonAtomic(join(summary.runDir, 'summary.json'), summary);
  }
  return { runs, aggregate: o.seeds > 1 ? aggregate(runs) : null };
}

/**
 * The single-task twin of a task: same data, model, architecture, optimizer, epochs and seed. On a
 * table with `data.features: auto`, the other tasks' label columns are ignored, not read as features.
 */
export function baselineConfig(config: ResolvedConfig, task: TaskConfig): ResolvedConfig {
  const others = config.tasks.filter((t) => t !== task && datasetSource(t.dataset ?? config.data.dataset) === 'csv');
  const ignore = [...new Set([...config.data.ignore, ...others.map((t) => t.labels)])].filter((c) => c !== task.labels);
  return {
    ...config,
    ...(others.length > 0 && config.data.features === 'auto' ? { data: { ...config.data, ignore } } : {}),
    name: `${config.name}-single-${task.name}`.slice(0, 64),
    tasks: [{ ...task, weight: 1 }],
    multitask: {
      ...config.multitask,
      weighting: 'equal',
      normalizeLosses: 'none',
      distill: { ...config.multitask.distill, from: [] },
    },
  };
}

async function singleTaskBaseline(
  config: ResolvedConfig,
  task: TaskConfig,
  ctx: RunContext,
  o: MultiTaskExperimentOptions,
): Promise<MultiTaskSummary> {
  const cfg = baselineConfig(config, task);
  const hash = hashConfig(cfg);
  for (const run of await listRuns(ctx.runsDir)) {
    if (run.record.kind !== 'multitask' || run.record.status !== 'completed' || run.record.configHash !== hash)
      continue;
    const cached = await readFile(join(run.dir, 'summary.json'), 'utf8')
      .then((t) => JSON.parse(t) as MultiTaskSummary)
      .catch(() => null);
    if (cached?.tasks?.[task.name]) {
      o.onBaseline?.(task.name, run.id, true);
      return cached;
    }
  }
  const summary = await runMultiTask(cfg, {
    ...ctx,
    callbacks: o.progress?.(`single-task ${task.name}`) ?? ctx.callbacks,
  });
  o.onBaseline?.(task.name, summary.runId, false);
  return summary;
}

/** Δm over every (task, metric) of the config, on test metrics. */
export function deltaM(config: ResolvedConfig, mt: MultiTaskSummary, baselines: MultiTaskSummary[]): DeltaM {
  const entries: TaskMetricEntry[] = config.tasks.flatMap((task, i) =>
    task.metrics.map((m) => ({
      task: task.name,
      metric: m.name,
      higherIsBetter: m.direction === 'higher',
      value: mt.tasks[task.name]!.test[m.name],
      baseline: baselines[i]!.tasks[task.name]!.test[m.name],
    })),
  );
  const byTask: DeltaM['baselines'] = {};
  for (const e of entries) {
    byTask[e.task] ??= {};
    byTask[e.task]![e.metric] = e.baseline;
  }
  return {
    dropPct: performanceDropPct(entries),
    deltaPPct: deltaPPct(entries),
    baselineRunIds: baselines.map((b) => b.runId),
    baselines: byTask,
  };
}

function aggregate(runs: MultiTaskSummary[]): MultiTaskAggregate {
  const tasks: MultiTaskAggregate['tasks'] = {};
  for (const name of Object.keys(runs[0]!.tasks)) {
    const metrics = Object.keys(runs[0]!.tasks[name]!.test) as (keyof MultiTaskSummary['tasks'][string]['test'])[];
    tasks[name] = Object.fromEntries(metrics.map((m) => [m, meanStd(runs.map((r) => r.tasks[name]!.test[m]))]));
  }
  const withDelta = runs.filter((r) => r.deltaM);
  return {
    seeds: runs.map((r) => r.seed),
    runIds: runs.map((r) => r.runId),
    tasks,
    ...(withDelta.length === runs.length && runs.length > 0
      ? {
          deltaM: {
            dropPct: meanStd(withDelta.map((r) => r.deltaM!.dropPct)),
            deltaPPct: meanStd(withDelta.map((r) => r.deltaM!.deltaPPct)),
          },
        }
      : {}),
  };
}
