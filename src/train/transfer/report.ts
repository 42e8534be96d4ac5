// The transfer summary.json (docs/design.md: `source`, `strategies`, `gain`), its plain-language notes
// (transfer that hurts is said so), and which child `mtl eval <transfer-run>` evaluates.
import { dirname, join } from 'node:path';
import type { FinetuneStrategy, NormalizeKind } from '../../config/types.ts';
import type { BackendRecord } from '../../engine/backend/backend.ts';
import { InputError } from '../../errors.ts';
import type { ResolvedRun } from '../../runs/resolve.ts';
import type { RunStatus } from '../../runs/run-record.ts';
import type { TestMetrics } from '../summary.ts';
import { readSummary } from './source.ts';
import type { GainSummary, StrategySummary } from './stats.ts';
import { BASELINE_STRATEGY, strategy as strategyOf } from './strategies/index.ts';

export interface TransferSummary {
  runId: string;
  runDir: string;
  kind: 'transfer';
  status: RunStatus;
  backend: BackendRecord;
  /** Base seed; child i of every strategy uses seeds[i] = seed + i. */
  seed: number;
  seeds: number[];
  model: 'mlp' | 'cnn';
  source: { runId: string; runDir: string; dataset: string; reused: boolean; epochs: number; test: TestMetrics };
  target: {
    dataset: string;
    numClasses: number;
    epochs: number;
    normalize: NormalizeKind;
    normalizationFittedOn: string;
  };
  strategies: Partial<Record<FinetuneStrategy, StrategySummary>>;
  /** Target test accuracy minus that of `reinit`, per seed, then mean ± std. */
  gain: Partial<Record<FinetuneStrategy, GainSummary>>;
  zeroShot: { normalization: string; chance: number } | { skipped: string };
  notes: string[];
  timing: { totalSeconds: number };
}

/** Percentage points with a sign: +0.42 pp / −1.30 pp. */
export function pp(x: number): string {
  const v = (x * 100).toFixed(2);
  return `${x < 0 ? '−' : '+'}${v.replace('-', '')} pp`;
}

/** One sentence per finding; a strategy that does worse than training from scratch is called out. */
export function transferNotes(s: TransferSummary, requested: readonly FinetuneStrategy[]): string[] {
  const notes: string[] = [];
  if (s.status === 'interrupted') {
    const done = Object.values(s.strategies).reduce((k, st) => k + (st?.perSeed.length ?? 0), 0);
    notes.push(`interrupted: ${done} child run(s) finished; everything below covers those only.`);
  }
  const n = s.seeds.length;
  const diff = (g: GainSummary): string => (n > 1 ? `${pp(g.mean)} ± ${(g.std * 100).toFixed(2)}` : pp(g.mean));
  for (const [strategy, g] of Object.entries(s.gain) as Array<[FinetuneStrategy, GainSummary]>) {
    if (strategyOf(strategy).evaluateOnly) continue; // said below, with its chance level
    if (g.verdict === 'hurts')
      notes.push(`${strategy}: transfer HURTS here: ${diff(g)} target test accuracy vs training from scratch.`);
    else if (g.verdict === 'helps')
      notes.push(`${strategy}: transfer helps: ${diff(g)} target test accuracy vs training from scratch.`);
    else
      notes.push(
        `${strategy}: no clear effect: ${diff(g)} target test accuracy vs training from scratch is within the noise (2 standard errors = ${(2 * g.se * 100).toFixed(2)} pp).`,
      );
  }
  if (!requested.includes(BASELINE_STRATEGY))
    notes.push('no reinit baseline was run, so no gain is computed (add --strategy reinit).');
  const zs = s.strategies['zero-shot'];
  if ('chance' in s.zeroShot && zs) {
    const g = s.gain['zero-shot'];
    notes.push(
      `zero-shot: the source model with its own head and normalization scores ${(zs.test.accuracy.mean * 100).toFixed(2)}% ` +
        `on ${s.target.dataset} (chance ${(s.zeroShot.chance * 100).toFixed(1)}%${g ? `; ${diff(g)} vs scratch` : ''}): ` +
        `its outputs are ${s.source.dataset}'s classes, read as ${s.target.dataset}'s labels by index.`,
    );
  } else if ('skipped' in s.zeroShot && requested.includes('zero-shot')) {
    notes.push(`zero-shot skipped: ${s.zeroShot.skipped}.`);
  }
  if (Object.keys(s.gain).length > 0) {
    notes.push(
      n === 1
        ? "gains are from 1 seed: their noise band covers the test set's sampling error only; use --seeds 3 or more for mean ± std."
        : `gains are mean ± std over ${n} seeds, paired by seed; helps/hurts means beyond 2 standard errors.`,
    );
  }
  return notes;
}

export interface PickedChild {
  strategy: FinetuneStrategy;
  runId: string;
  runDir: string;
  seed: number;
}

/**
 * The child `mtl eval <transfer-run>` evaluates: the given strategy's, or else the fine-tuned child
 * (not reinit, not zero-shot) with the best validation accuracy. Never chosen by test metrics.
 */
export function pickTransferChild(run: ResolvedRun, strategy?: FinetuneStrategy): PickedChild {
  const summary = readSummary(run.dir) as unknown as TransferSummary;
  const available = Object.keys(summary.strategies ?? {}) as FinetuneStrategy[];
  if (strategy && !available.includes(strategy)) {
    throw new InputError(
      `transfer run ${run.id} has no '${strategy}' child (it has: ${available.join(', ') || 'none'})`,
    );
  }
  const pool = strategy ? [strategy] : available.filter((s) => !strategyOf(s).baseline && !strategyOf(s).evaluateOnly);
  const candidates = pool.flatMap((s) => summary.strategies[s]!.perSeed);
  if (candidates.length === 0) {
    throw new InputError(
      `transfer run ${run.id} has no fine-tuned child to evaluate; choose one with --strategy (${available.join(', ') || 'none'})`,
    );
  }
  const best = candidates.reduce((a, b) => ((b.valAccuracy ?? -1) > (a.valAccuracy ?? -1) ? b : a));
  return { strategy: best.strategy, runId: best.runId, runDir: join(dirname(run.dir), best.runId), seed: best.seed };
}
