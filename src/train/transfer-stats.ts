// Statistics of a transfer run over seeds: mean ± std per strategy, and the transfer gain (strategy
// minus the from-scratch `reinit`, paired by seed), with a plain verdict on whether transfer helped.
import type { FinetuneStrategy } from '../config/types.ts';
import { meanStd, type MeanStd } from '../metrics/report.ts';
import type { TestMetrics } from './summary.ts';

/** One child run's outcome, as the transfer summary keeps it. */
export interface ChildResult {
  strategy: FinetuneStrategy;
  seed: number;
  runId: string;
  test: TestMetrics;
  /** Validation accuracy at the best epoch; null for zero-shot (nothing was selected). */
  valAccuracy: number | null;
  bestEpoch: number;
  seconds: number;
}

export interface StrategySummary {
  test: { accuracy: MeanStd; macroF1: MeanStd; aucRoc: MeanStd; loss: MeanStd };
  val: { accuracy: MeanStd } | null;
  epochsToBest: MeanStd;
  seconds: MeanStd;
  runIds: string[];
  perSeed: ChildResult[];
}

export type Verdict = 'helps' | 'hurts' | 'no clear effect';

export interface GainSummary {
  /** Target test accuracy of the strategy minus that of `reinit`, paired by seed. */
  mean: number;
  std: number;
  perSeed: Array<{ seed: number; gain: number }>;
  verdict: Verdict;
}

export function summarizeStrategies(results: readonly ChildResult[]): Partial<Record<FinetuneStrategy, StrategySummary>> {
  const out: Partial<Record<FinetuneStrategy, StrategySummary>> = {};
  for (const strategy of unique(results.map((r) => r.strategy))) {
    const runs = results.filter((r) => r.strategy === strategy);
    const vals = runs.map((r) => r.valAccuracy).filter((v): v is number => v !== null);
    out[strategy] = {
      test: {
        accuracy: meanStd(runs.map((r) => r.test.accuracy)),
        macroF1: meanStd(runs.map((r) => r.test.macroF1)),
        aucRoc: meanStd(runs.map((r) => r.test.aucRoc)),
        loss: meanStd(runs.map((r) => r.test.loss)),
      },
      val: vals.length === runs.length ? { accuracy: meanStd(vals) } : null,
      epochsToBest: meanStd(runs.map((r) => r.bestEpoch)),
      seconds: meanStd(runs.map((r) => r.seconds)),
      runIds: runs.map((r) => r.runId),
      perSeed: runs,
    };
  }
  return out;
}

/**
 * Gain of every strategy over `reinit`, seed by seed. A strategy run once (zero-shot: it has no
 * randomness) is compared with each reinit seed. Empty when there is no reinit baseline.
 */
export function transferGains(results: readonly ChildResult[]): Partial<Record<FinetuneStrategy, GainSummary>> {
  const baseline = new Map(results.filter((r) => r.strategy === 'reinit').map((r) => [r.seed, r.test.accuracy]));
  const out: Partial<Record<FinetuneStrategy, GainSummary>> = {};
  if (baseline.size === 0) return out;
  for (const strategy of unique(results.map((r) => r.strategy))) {
    if (strategy === 'reinit') continue;
    const runs = results.filter((r) => r.strategy === strategy);
    const paired = runs.length === 1 && baseline.size > 1
      ? [...baseline].map(([seed, acc]) => ({ seed, gain: runs[0]!.test.accuracy - acc }))
      : runs.filter((r) => baseline.has(r.seed)).map((r) => ({ seed: r.seed, gain: r.test.accuracy - baseline.get(r.seed)! }));
    if (paired.length === 0) continue;
    const { mean, std } = meanStd(paired.map((p) => p.gain));
    out[strategy] = { mean, std, perSeed: paired, verdict: verdictOf(mean, std, paired.length) };
  }
  return out;
}

/**
 * `hurts` / `helps` by the sign of the mean gain; with several seeds, a mean within one standard
 * deviation of zero is `no clear effect` (a rough screen, not a significance test).
 */
export function verdictOf(mean: number, std: number, n: number): Verdict {
  if (mean === 0 || (n > 1 && Math.abs(mean) <= std)) return 'no clear effect';
  return mean > 0 ? 'helps' : 'hurts';
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
