// Metrics of a task on the rows that have its label: a table's empty label cell (−1) is neither right
// nor wrong, so it is left out of the task's accuracy, F1, AUC and loss (as it is of its training loss).
import { type ClassificationMetrics, classificationReport } from '../../metrics/report.ts';

export function labelledReport(labels: Int32Array, probs: Float32Array, numClasses: number): ClassificationMetrics {
  if (labels.every((y) => y >= 0)) return classificationReport(labels, probs, numClasses);
  const rows = [...labels.keys()].filter((i) => labels[i]! >= 0);
  const keptProbs = new Float32Array(rows.length * numClasses);
  rows.forEach((r, k) => {
    keptProbs.set(probs.subarray(r * numClasses, (r + 1) * numClasses), k * numClasses);
  });
  return classificationReport(
    Int32Array.from(rows, (r) => labels[r]!),
    keptProbs,
    numClasses,
  );
}

/** The host training labels when some are missing (TaskInfo.masked), else undefined. */
export function maskOf(train: Int32Array): Int32Array | undefined {
  return train.some((y) => y < 0) ? train : undefined;
}
