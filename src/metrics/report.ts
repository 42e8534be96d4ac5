// The evaluation report of docs/design.md (`metrics` of `mtl eval --json`, `test` of summary.json) and
// small summaries of repeated measurements (epoch times, metrics across seeds).

import { InputError } from '../errors.ts';
import {
  accuracyFromConfusion,
  argmaxRows,
  aucRocOvr,
  type ClassMetrics,
  confusionMatrix,
  crossEntropy,
  macroF1,
  perClassMetrics,
} from './classification.ts';

export interface ClassificationMetrics {
  /** Mean categorical cross-entropy with Keras's clipping. */
  loss: number;
  accuracy: number;
  macroF1: number;
  /** Macro one-vs-rest ROC AUC; NaN (null in JSON) when no class has both positives and negatives. */
  aucRoc: number;
  /** Indexed by class id. */
  perClass: ClassMetrics[];
  /** Rows = true class, columns = predicted class. */
  confusion: number[][];
}

export interface SecondsSummary {
  median: number;
  min: number;
  max: number;
}

export interface MeanStd {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  std: number;
}

/** Every single-task metric from true labels and predicted probabilities (N rows × numClasses). */
export function classificationReport(
  yTrue: ArrayLike<number>,
  probs: Float32Array,
  numClasses: number,
): ClassificationMetrics {
  if (yTrue.length === 0) throw new InputError('cannot evaluate on zero examples');
  const loss = crossEntropy(yTrue, probs, numClasses);
  const confusion = confusionMatrix(yTrue, argmaxRows(probs, numClasses), numClasses);
  return {
    loss,
    accuracy: accuracyFromConfusion(confusion),
    macroF1: macroF1(confusion),
    aucRoc: aucRocOvr(yTrue, probs, numClasses),
    perClass: perClassMetrics(confusion),
    confusion,
  };
}

/** Median/min/max of durations; the median resists the first epoch's warm-up outlier. */
export function summarizeSeconds(xs: number[]): SecondsSummary {
  if (xs.length === 0) throw new RangeError('summarizeSeconds: no values');
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Mean and sample std (n − 1, what papers report over seeds); std is 0 for one value. */
export function meanStd(xs: number[]): MeanStd {
  if (xs.length === 0) throw new RangeError('meanStd: no values');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, std: 0 };
  const ss = xs.reduce((acc, x) => acc + (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (xs.length - 1)) };
}
