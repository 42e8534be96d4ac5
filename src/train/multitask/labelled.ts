// Metrics of a task on the rows that have its label: a table's empty label cell (−1) is neither right
// nor wrong, so it is left out of the task's accuracy, F1, AUC and loss (as it is of its training loss).
import { type ClassificationMetrics, classificationReport } from '../../metrics/report.ts';

export function labelledReport(labels: Int32Array, probs: Float32Array, numClasses: number): ClassificationMetrics {
  const kept = labelledRows(labels, probs, numClasses);
  return classificationReport(kept.labels, kept.probs, numClasses);
}

/** The labels and probability rows of the examples that have a label (the arrays themselves when all do). */
export function labelledRows(
  labels: Int32Array,
  probs: Float32Array,
  numClasses: number,
): { labels: Int32Array; probs: Float32Array } {
  if (labels.every((y) => y >= 0)) return { labels, probs };
  const rows = [...labels.keys()].filter((i) => labels[i]! >= 0);
  const keptProbs = new Float32Array(rows.length * numClasses);
  rows.forEach((r, k) => {
    keptProbs.set(probs.subarray(r * numClasses, (r + 1) * numClasses), k * numClasses);
  });
  return { labels: Int32Array.from(rows, (r) => labels[r]!), probs: keptProbs };
}

/** The host training labels when some are missing (TaskInfo.masked), else undefined. */
export function maskOf(train: Int32Array): Int32Array | undefined {
  return train.some((y) => y < 0) ? train : undefined;
}
