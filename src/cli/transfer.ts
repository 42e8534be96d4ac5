// `mtl transfer --from <dataset|run> --to <dataset>`: pretrain (or reuse) the source, fine-tune with
// each strategy and seed, and print target accuracy, F1, AUC and gain vs training from scratch.
import chalk from 'chalk';
import type { BackendName, FinetuneStrategy } from '../config/types.ts';
import { initBackend } from '../engine/backend/backend.ts';
import { UsageError } from '../errors.ts';
import type { MeanStd } from '../metrics/report.ts';
import { type ResolvedRun, resolveRun } from '../runs/resolve.ts';
import { runTransfer, type TransferEvent } from '../train/transfer/job.ts';
import { pickTransferChild, pp, type TransferSummary } from '../train/transfer/report.ts';
import type { ModelPreset } from '../train/transfer/source.ts';
import type { GainSummary, Verdict } from '../train/transfer/stats.ts';
import { DEFAULT_STRATEGIES, strategy } from '../train/transfer/strategies/index.ts';
import { fmt, pct, printJson, say, sayHowToContinue, table } from './output.ts';
import { createProgress } from './progress.ts';
import { interruptFlag } from './signals.ts';

export interface TransferCliOptions {
  from: string;
  to: string;
  model?: ModelPreset;
  strategy?: FinetuneStrategy[];
  epochs: number;
  sourceEpochs: number;
  seeds: number;
  seed: number;
  limit?: number;
  keepHead?: boolean;
  backend: BackendName;
  requireGpu?: boolean;
  runsDir: string;
  name?: string;
  json?: boolean;
}

export async function transferCommand(options: TransferCliOptions, argv: string[]): Promise<TransferSummary> {
  const backend = await initBackend(options.backend, { requireGpu: options.requireGpu });
  const strategies = options.strategy ?? [...DEFAULT_STRATEGIES];
  say(
    chalk.dim(
      `mtl transfer ${options.from} → ${options.to}  backend ${backend.name}${backend.gpu ? ' (GPU)' : ''}  ` +
        `strategies ${strategies.join(', ')}  seeds ${options.seeds} (from ${options.seed})`,
    ),
  );
  const summary = await runTransfer(
    {
      from: options.from,
      to: options.to,
      ...(options.model ? { model: options.model } : {}),
      strategies,
      epochs: options.epochs,
      sourceEpochs: options.sourceEpochs,
      seeds: options.seeds,
      seed: options.seed,
      limit: options.limit ?? null,
      backend: options.backend,
      keepHead: options.keepHead ?? false,
      runsDir: options.runsDir,
      argv,
      ...(options.name ? { name: options.name } : {}),
    },
    {
      backend,
      progress: (label) => createProgress({ label }),
      shouldStop: interruptFlag.isSet,
      onEvent: describeEvent,
    },
  );
  if (options.json) printJson(summary);
  printTransferSummary(summary);
  return summary;
}

export function describeEvent(e: TransferEvent): void {
  say(eventLine(e));
}

function eventLine(e: TransferEvent): string {
  switch (e.type) {
    case 'created':
      return chalk.dim(`transfer run ${e.runId}  →  ${e.runDir}`);
    case 'source-training':
      return chalk.bold(
        `\nsource: pretraining ${e.config.name} on ${e.config.data.dataset} (${e.config.trainer.epochs} epochs; no completed run of this config to reuse)`,
      );
    case 'source':
      return (
        `${chalk.bold('source')}: ${e.trained ? 'trained' : 'reusing'} ${e.source.runId}` +
        `${e.trained ? '' : ' (same config)'}: ${e.source.config.data.dataset} test accuracy ${pct(e.source.test.accuracy)}`
      );
    case 'child':
      return chalk.bold(`\n[${e.index + 1}/${e.total}] ${e.strategy} (seed ${e.seed})`);
    case 'child-done':
      return (
        `${e.result.strategy} (seed ${e.result.seed}): target test accuracy ${pct(e.result.test.accuracy)}, ` +
        `macro-F1 ${fmt(e.result.test.macroF1)}  ${chalk.dim(`${e.result.seconds.toFixed(1)} s, ${e.result.runId}`)}`
      );
    case 'child-kept':
      return (
        `${e.result.strategy} (seed ${e.result.seed}): completed before the interruption, kept: target test accuracy ` +
        `${pct(e.result.test.accuracy)}  ${chalk.dim(e.result.runId)}`
      );
    case 'zero-shot-skipped':
      return chalk.yellow(`zero-shot skipped: ${e.reason}`);
  }
}

function meanPct(m: MeanStd | undefined, n: number): string {
  if (!m) return '—';
  return n > 1 ? `${pct(m.mean)} ± ${(m.std * 100).toFixed(2)}` : pct(m.mean);
}

function meanFmt(m: MeanStd | undefined, n: number, digits = 4): string {
  if (!m) return '—';
  return n > 1 ? `${fmt(m.mean, digits)} ± ${fmt(m.std, digits)}` : fmt(m.mean, digits);
}

// A function, not a constant: colours are configured (NO_COLOR…) after modules load.
function verdictLabel(v: Verdict): string {
  return v === 'hurts' ? chalk.red('hurts') : v === 'helps' ? chalk.green('helps') : '≈ 0';
}

function gainCell(g: GainSummary | undefined, n: number): string {
  if (!g) return '—';
  return `${pp(g.mean)}${n > 1 ? ` ± ${(g.std * 100).toFixed(2)}` : ''} ${verdictLabel(g.verdict)}`;
}

export function printTransferSummary(s: TransferSummary): void {
  say();
  say(
    `${chalk.bold('source')} ${s.source.runId} (${s.source.dataset}, ${s.model}${s.source.reused ? ', reused' : ''}): ` +
      `test accuracy ${pct(s.source.test.accuracy)}, macro-F1 ${fmt(s.source.test.macroF1)}`,
  );
  const normalization =
    s.target.normalize === 'standardize'
      ? "standardize normalization fitted on the target's training split"
      : s.target.normalize === 'scale01'
        ? 'pixels scaled to [0, 1]'
        : 'raw pixels';
  say(`${chalk.bold('target')} ${s.target.dataset}: ${s.target.epochs} epochs per strategy, ${normalization}`);
  say();
  const rows = Object.entries(s.strategies).map(([name, st]) => {
    const n = st.perSeed.length;
    const gain = strategy(name as FinetuneStrategy).baseline
      ? '(baseline)'
      : gainCell(s.gain[name as FinetuneStrategy], n);
    return [
      name,
      meanPct(st.test.accuracy, n),
      meanFmt(st.test.macroF1, n),
      meanFmt(st.test.aucRoc, n),
      gain,
      strategy(name as FinetuneStrategy).evaluateOnly ? '—' : meanFmt(st.epochsToBest, n, 1),
      meanFmt(st.seconds, n, 1),
    ];
  });
  say(table(['strategy', 'target acc', 'macro-F1', 'AUC-ROC', 'gain vs scratch', 'epochs to best', 'seconds'], rows));
  say();
  for (const note of s.notes) say(note.includes('HURTS') ? chalk.yellow(note) : note);
  say();
  say(
    `${chalk.bold(s.status === 'completed' ? chalk.green('completed') : chalk.yellow(s.status))} ${s.runId} in ${s.timing.totalSeconds.toFixed(1)} s`,
  );
  say(chalk.dim(`run folder: ${s.runDir}   (mtl eval ${s.runId} evaluates the best fine-tuned child)`));
  sayHowToContinue(s, 'transfer');
}

/**
 * `mtl eval <transfer-run>`: a transfer run stands for one of its children, the `--strategy` one or
 * else the fine-tuned child with the best validation accuracy. Other runs pass through unchanged.
 */
export async function resolveEvalRun(runsDir: string, ref: string, strategy?: FinetuneStrategy): Promise<ResolvedRun> {
  const run = await resolveRun(runsDir, ref);
  if (run.record.kind !== 'transfer') {
    if (strategy) throw new UsageError(`--strategy applies to transfer runs; ${run.id} is a ${run.record.kind} run`);
    return run;
  }
  const child = pickTransferChild(run, strategy);
  say(chalk.dim(`transfer run ${run.id}: evaluating its ${child.strategy} child ${child.runId} (seed ${child.seed})`));
  return resolveRun(runsDir, child.runDir);
}
