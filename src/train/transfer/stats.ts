// Statistics of a transfer run over seeds: mean ± std per strategy, and the transfer gain (strategy
// minus the from-scratch `reinit`, paired by seed), with a plain verdict on whether transfer helped.
import type { FinetuneStrategy } from '../../config/types.ts';
import { type MeanStd, meanStd } from '../../metrics/report.ts';
import type { TestMetrics } from '../summary.ts';
import { strategy } from './strategies/index.ts';

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
  /** Size of the target test split (the binomial error of an accuracy depends on it). */
  testExamples: number;
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
  /**
   * Standard error of the mean gain: the seed-to-seed spread (std/√n) and the sampling error of two
   * accuracies measured on the same-size test split (binomial), added in quadrature.
   */
  se: number;
  perSeed: Array<{ seed: number; gain: number }>;
  verdict: Verdict;
}

export function summarizeStrategies(
  results: readonly ChildResult[],
): Partial<Record<FinetuneStrategy, StrategySummary>> {
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
  const baseline = new Map(results.filter((r) => strategy(r.strategy).baseline).map((r) => [r.seed, r.test.accuracy]));
  const out: Partial<Record<FinetuneStrategy, GainSummary>> = {};
  if (baseline.size === 0) return out;
  for (const name of unique(results.map((r) => r.strategy))) {
    if (strategy(name).baseline) continue;
    const runs = results.filter((r) => r.strategy === name);
    const paired =
      runs.length === 1 && baseline.size > 1
        ? [...baseline].map(([seed, acc]) => ({ seed, gain: runs[0]!.test.accuracy - acc }))
        : runs
            .filter((r) => baseline.has(r.seed))
            .map((r) => ({ seed: r.seed, gain: r.test.accuracy - baseline.get(r.seed)! }));
    if (paired.length === 0) continue;
    const { mean, std } = meanStd(paired.map((p) => p.gain));
    const accuracy = meanStd(runs.map((r) => r.test.accuracy)).mean;
    const reference = meanStd([...baseline.values()]).mean;
    const sampling = accuracyDiffSe(accuracy, reference, runs[0]!.testExamples);
    const se = Math.sqrt(std ** 2 / paired.length + sampling ** 2);
    out[name] = { mean, std, se, perSeed: paired, verdict: verdictOf(mean, se) };
  }
  return out;
}

/**
 * `helps` / `hurts` only when the gain is more than twice its standard error (about a 95% band);
 * inside it the difference is not told apart from noise: `no clear effect`.
 */
export function verdictOf(mean: number, se: number): Verdict {
  if (Math.abs(mean) <= 2 * se) return 'no clear effect';
  return mean > 0 ? 'helps' : 'hurts';
}

/** Binomial standard error of the difference of two accuracies, each measured on n examples. */
export function accuracyDiffSe(a: number, b: number, n: number): number {
  return n > 0 ? Math.sqrt((a * (1 - a) + b * (1 - b)) / n) : 0;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
