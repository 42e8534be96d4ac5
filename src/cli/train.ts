// `mtl train <config.yaml>`: load config → init backend → run the trainer → print the summary.
import chalk from 'chalk';
import { type ConfigExtras, loadConfig } from '../config/load.ts';
import type { BackendName } from '../config/types.ts';
import { initBackend } from '../engine/backend/backend.ts';
import { UsageError } from '../errors.ts';
import type { MultiTaskExperimentResult } from '../train/multitask/baselines.ts';
import { runSingleTask } from '../train/single/experiment.ts';
import type { RunSummary } from '../train/summary.ts';
import { runFinetune } from '../train/transfer/finetune-run.ts';
import { multitaskTrain } from './multitask.ts';
import { fmt, pct, printJson, say, sayHowToContinue, table } from './output.ts';
import { createProgress } from './progress.ts';
import { interruptFlag } from './signals.ts';

export interface TrainOptions {
  set?: string[];
  epochs?: number;
  seed?: number;
  limit?: number;
  backend?: BackendName;
  runsDir: string;
  name?: string;
  json?: boolean;
  requireGpu?: boolean;
  /** Multi-task: also train each task alone and report Δm. */
  baselines?: boolean;
  /** Multi-task: repeat with seeds seed … seed+N−1, report mean ± std. */
  seeds?: number;
  /** Hidden (`mtl sweep` sets them): the run folder's id, and the run.json parentRunId (the sweep). */
  runId?: string;
  parentRunId?: string;
}

export async function trainCommand(
  file: string,
  options: TrainOptions,
  argv: string[],
): Promise<RunSummary | MultiTaskExperimentResult> {
  const extra: ConfigExtras = {};
  if (options.epochs !== undefined) extra.epochs = options.epochs;
  if (options.seed !== undefined) extra.seed = options.seed;
  if (options.limit !== undefined) extra.limit = options.limit;
  if (options.backend !== undefined) extra.backend = options.backend;
  if (options.name !== undefined) extra.name = options.name;
  const { config } = loadConfig(file, options.set ?? [], extra);
  if (config.trainer.mode !== 'multitask' && (options.baselines || (options.seeds ?? 1) > 1)) {
    throw new UsageError(
      `${file}: --baselines and --seeds apply to trainer.mode multitask (mode is ${config.trainer.mode})`,
    );
  }
  if (options.runId !== undefined && (options.baselines || (options.seeds ?? 1) > 1)) {
    throw new UsageError('--run-id names one run: it cannot be combined with --baselines or --seeds');
  }
  const backend = await initBackend(config.backend, { requireGpu: options.requireGpu });
  say(chalk.dim(`mtl train ${file}  backend ${backend.name}${backend.gpu ? ' (GPU)' : ''}  seed ${config.seed}`));
  if (config.trainer.mode === 'multitask') return multitaskTrain(config, backend, options, argv);
  const ctx = {
    runsDir: options.runsDir,
    argv,
    backend,
    callbacks: createProgress(),
    shouldStop: interruptFlag.isSet,
    onRunCreated: (id: string, dir: string) => say(chalk.dim(`run ${id}  →  ${dir}`)),
    runId: options.runId,
    parentRunId: options.parentRunId,
  };
  // trainer.mode finetune starts from init.from with finetune.strategy's freeze plan.
  const summary =
    config.trainer.mode === 'finetune' ? await runFinetune(config, ctx) : await runSingleTask(config, ctx);
  if (options.json) printJson(summary);
  printSummary(summary);
  return summary;
}

export function printSummary(s: RunSummary): void {
  say();
  say(
    table(
      ['split', 'loss', 'accuracy', 'macro-F1', 'AUC-ROC'],
      [
        ...(s.val ? [['val (best epoch)', fmt(s.val.loss), pct(s.val.accuracy), fmt(s.val.macroF1), '']] : []),
        ['test', fmt(s.test.loss), pct(s.test.accuracy), fmt(s.test.macroF1), fmt(s.test.aucRoc)],
      ],
    ),
  );
  say();
  const e = s.timing.epochSeconds;
  say(
    `${chalk.bold(s.status === 'completed' ? chalk.green('completed') : chalk.yellow(s.status))} ${s.runId}: ` +
      `${s.epochs} epochs, best epoch ${s.bestEpoch}${s.stoppedEarly ? ' (early stop)' : ''}; ` +
      `${e.median.toFixed(2)} s/epoch (median), ${s.timing.samplesPerSecond} samples/s, ` +
      `${s.timing.totalSeconds.toFixed(1)} s total, peak RSS ${s.memory.peakRssMB} MB`,
  );
  say(chalk.dim(`run folder: ${s.runDir}`));
  sayHowToContinue(s, s.kind);
}
