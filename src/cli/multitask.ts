// `mtl train` for trainer.mode multitask: runs the multi-task experiment (with --baselines and
// --seeds), prints per-epoch lines with every task, and the per-task / Δm / distillation tables.
import chalk from 'chalk';
import type { ResolvedConfig } from '../config/types.ts';
import type { BackendInfo } from '../engine/backend/backend.ts';
import type { MeanStd } from '../metrics/report.ts';
import type { EpochRecord, LoopCallbacks } from '../train/loop.ts';
import { type MultiTaskExperimentResult, runMultiTaskExperiment } from '../train/multitask/baselines.ts';
import type { MultiTaskSummary } from '../train/multitask/summary.ts';
import { fmt, pct, printJson, say, sayHowToContinue, table } from './output.ts';
import { createProgress } from './progress.ts';
import { interruptFlag } from './signals.ts';

export interface MultitaskCliOptions {
  runsDir: string;
  json?: boolean;
  baselines?: boolean;
  seeds?: number;
  runId?: string;
  parentRunId?: string;
}

export async function multitaskTrain(
  config: ResolvedConfig,
  backend: BackendInfo,
  o: MultitaskCliOptions,
  argv: string[],
): Promise<MultiTaskExperimentResult> {
  const result = await runMultiTaskExperiment(
    config,
    {
      runsDir: o.runsDir,
      argv,
      backend,
      shouldStop: interruptFlag.isSet,
      onRunCreated: (id, dir) => say(chalk.dim(`run ${id}  →  ${dir}`)),
      runId: o.runId,
      parentRunId: o.parentRunId,
    },
    {
      baselines: o.baselines ?? false,
      seeds: o.seeds ?? 1,
      progress: (label) => createMultitaskProgress(label),
      onBaseline: (task, id, reused) =>
        say(chalk.dim(`single-task baseline for ${task}: ${id}${reused ? ' (reused: same config hash)' : ''}`)),
    },
  );
  if (o.json) printJson(result.aggregate ? result : result.runs[0]);
  result.runs.forEach(printMultitaskSummary);
  if (result.aggregate) printAggregate(result);
  return result;
}

/** The shared progress bar, with an epoch line that names every task. */
export function createMultitaskProgress(label: string): LoopCallbacks {
  return createProgress({
    label,
    format: (record, epochs, improved) =>
      formatMultitaskEpoch(record, epochs) + (improved && record.val ? chalk.green('  *best') : ''),
  });
}

export function formatMultitaskEpoch(r: EpochRecord, epochs: number): string {
  const val = (r.val ?? {}) as Record<string, { accuracy?: number }>;
  const train = (r.trainTasks ?? {}) as Record<string, { loss: number }>;
  const weights = r.weights as Record<string, number> | null | undefined;
  const grads = r.gradients as { cosine?: Record<string, number> } | undefined;
  const tasks = Object.keys(train).map(
    (t) => `${t} loss ${fmt(train[t]!.loss, 3)}${val[t] ? ` val_acc ${fmt(val[t]!.accuracy)}` : ''}`,
  );
  const parts = [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    ...tasks,
    weights
      ? `w ${Object.values(weights)
          .map((w) => w.toFixed(3))
          .join('/')}`
      : '',
    grads?.cosine
      ? `cos ${Object.values(grads.cosine)
          .map((c) => c.toFixed(3))
          .join('/')}`
      : '',
    `${r.seconds.toFixed(1)}s`,
  ];
  return parts.filter(Boolean).join('  ');
}

export function printMultitaskSummary(s: MultiTaskSummary): void {
  say();
  const names = Object.keys(s.tasks);
  say(
    table(
      ['task', 'val acc (best)', 'test loss', 'test acc', 'macro-F1', ...(s.deltaM ? ['single-task acc'] : [])],
      names.map((n) => {
        const t = s.tasks[n]!;
        const base = s.deltaM?.baselines[n]?.accuracy;
        return [
          n,
          pct(t.val?.accuracy),
          fmt(t.test.loss),
          pct(t.test.accuracy),
          fmt(t.test.macroF1),
          ...(s.deltaM ? [pct(base)] : []),
        ];
      }),
    ),
  );
  if (s.deltaM) {
    say(
      `Δm (Maninis et al. 2019, performance drop, lower is better): ${signed(s.deltaM.dropPct)}%   ` +
        `Δp (LibMTL, improvement, higher is better): ${signed(s.deltaM.deltaPPct)}%`,
    );
  }
  if (s.distill) {
    say(
      table(
        ['task', 'teacher run', 'teacher test acc', 'student test acc'],
        Object.entries(s.distill.tasks).map(([n, d]) => [
          n,
          d.teacherRunId ?? '—',
          pct(d.teacherAccuracy),
          pct(d.studentAccuracy),
        ]),
      ),
    );
  }
  const e = s.timing.epochSeconds;
  say(
    `${chalk.bold(s.status === 'completed' ? chalk.green('completed') : chalk.yellow(s.status))} ${s.runId}: ` +
      `${s.multitask.architecture} / ${s.multitask.weighting}, ${s.epochs} epochs, best epoch ${s.bestEpoch}${s.stoppedEarly ? ' (early stop)' : ''}; ` +
      `${e.median.toFixed(2)} s/epoch (median), ${s.timing.totalSeconds.toFixed(1)} s total, peak RSS ${s.memory.peakRssMB} MB`,
  );
  say(chalk.dim(`run folder: ${s.runDir}`));
  sayHowToContinue(s, 'multitask');
}

function printAggregate(r: MultiTaskExperimentResult): void {
  const a = r.aggregate!;
  const ms = (m: MeanStd | undefined, scale = 100): string =>
    m ? `${(m.mean * scale).toFixed(2)} ± ${(m.std * scale).toFixed(2)}` : '—';
  say();
  say(chalk.bold(`over seeds ${a.seeds.join(', ')} (mean ± std)`));
  say(
    table(
      ['task', 'test acc %', 'macro-F1 %'],
      Object.entries(a.tasks).map(([n, m]) => [n, ms(m.accuracy), ms(m.macroF1)]),
    ),
  );
  if (a.deltaM)
    say(
      `Δm drop (lower is better): ${ms(a.deltaM.dropPct, 1)}%   Δp (higher is better): ${ms(a.deltaM.deltaPPct, 1)}%`,
    );
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}
