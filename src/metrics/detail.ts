// What a chart of one evaluation needs beyond summary.json's scalars: class names, the confusion
// matrix, per-class precision/recall/F1 and the one-vs-rest ROC curves (saved as test-report.json).
import type { ClassMetrics } from './classification.ts';
import type { ClassificationMetrics } from './report.ts';
import { type RocCurve, rocCurves } from './roc.ts';

export interface EvaluationDetail {
  dataset: string;
  examples: number;
  /** Indexed by class id. */
  classNames: string[];
  /** Rows = true class, columns = predicted class. */
  confusion: number[][];
  perClass: ClassMetrics[];
  roc: RocCurve[];
}

export interface DetailInput {
  dataset: string;
  classNames: readonly string[];
  yTrue: ArrayLike<number>;
  /** N × numClasses probabilities, row-major. */
  probs: Float32Array;
  /** The classification report already computed from the same labels and probabilities. */
  report: ClassificationMetrics;
}

export function evaluationDetail(input: DetailInput): EvaluationDetail {
  const numClasses = input.report.confusion.length;
  return {
    dataset: input.dataset,
    examples: input.yTrue.length,
    classNames: Array.from({ length: numClasses }, (_, c) => input.classNames[c] ?? String(c)),
    confusion: input.report.confusion,
    perClass: input.report.perClass,
    roc: rocCurves(input.yTrue, input.probs, numClasses),
  };
}
