// One-vs-rest ROC curves to draw (the AUC itself is classification.ts's rank statistic): exact
// points at every distinct threshold, collinear points dropped, then thinned to a bounded count.

import { binaryAucByRank, orderByScore } from './classification.ts';

/** 200 points per class keep a 10-class test report near 50 KB, and a curve within 0.01 of its exact shape. */
export const MAX_ROC_POINTS = 200;

/** Decimals kept in saved curves: 1e-5 is far below one example of a 10,000-example split. */
const ROC_DECIMALS = 5;

export interface RocCurve {
  /** Class id (the positive class); the rest are negatives. */
  classIndex: number;
  /** Exact AUC (Mann–Whitney), not the area under the thinned points. */
  auc: number;
  fpr: number[];
  tpr: number[];
}

/**
 * ROC points of `scores` for "label === positive" vs the rest: (0,0), then one point after each
 * group of equal scores taken from the highest down, ending at (1,1). Null when one side is empty.
 */
export function rocPoints(
  labels: ArrayLike<number>,
  positive: number,
  scores: ArrayLike<number>,
): { fpr: number[]; tpr: number[] } | null {
  const n = scores.length;
  const order = orderByScore(scores, true);
  let nPos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === positive) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    // Tied scores cross the threshold together: one point per group, as sklearn's roc_curve.
    while (end < n && scores[order[end]!] === scores[order[start]!]) {
      if (labels[order[end]!] === positive) tp++;
      else fp++;
      end++;
    }
    fpr.push(fp / nNeg);
    tpr.push(tp / nPos);
    start = end;
  }
  return dropCollinear(fpr, tpr);
}

/** Removes points that lie on the straight line between their neighbours (sklearn's drop_intermediate). */
export function dropCollinear(fpr: number[], tpr: number[]): { fpr: number[]; tpr: number[] } {
  const keepF = [fpr[0]!];
  const keepT = [tpr[0]!];
  for (let i = 1; i < fpr.length - 1; i++) {
    const ax = keepF.at(-1)!;
    const ay = keepT.at(-1)!;
    const cross = (fpr[i]! - ax) * (tpr[i + 1]! - ay) - (tpr[i]! - ay) * (fpr[i + 1]! - ax);
    if (Math.abs(cross) > 1e-12) {
      keepF.push(fpr[i]!);
      keepT.push(tpr[i]!);
    }
  }
  keepF.push(fpr.at(-1)!);
  keepT.push(tpr.at(-1)!);
  return { fpr: keepF, tpr: keepT };
}

/**
 * At most `maxPoints` points spread evenly along the curve. fpr + tpr grows monotonically from 0 to 2
 * along a ROC curve, so picking the first point past each of maxPoints − 1 equal steps of it keeps
 * every part of the curve (a steep start as much as a flat end) to within one step.
 */
export function thinCurve(fpr: number[], tpr: number[], maxPoints: number): { fpr: number[]; tpr: number[] } {
  if (fpr.length <= maxPoints) return { fpr, tpr };
  const picked = [0];
  const steps = maxPoints - 1;
  let k = 1;
  for (let i = 1; i < fpr.length - 1 && k < steps; i++) {
    if (fpr[i]! + tpr[i]! >= (2 * k) / steps) {
      picked.push(i);
      while (k < steps && fpr[i]! + tpr[i]! >= (2 * k) / steps) k++;
    }
  }
  picked.push(fpr.length - 1);
  return { fpr: picked.map((i) => fpr[i]!), tpr: picked.map((i) => tpr[i]!) };
}

/** One curve per class that has both positives and negatives, from N × numClasses probabilities. */
export function rocCurves(
  yTrue: ArrayLike<number>,
  probs: Float32Array,
  numClasses: number,
  maxPoints = MAX_ROC_POINTS,
): RocCurve[] {
  const n = yTrue.length;
  const scores = new Float64Array(n);
  const curves: RocCurve[] = [];
  for (let c = 0; c < numClasses; c++) {
    for (let i = 0; i < n; i++) scores[i] = probs[i * numClasses + c]!;
    const points = rocPoints(yTrue, c, scores);
    if (!points || scores.some(Number.isNaN)) continue;
    const thin = thinCurve(points.fpr, points.tpr, maxPoints);
    curves.push({
      classIndex: c,
      auc: binaryAucByRank(yTrue, c, scores),
      fpr: thin.fpr.map(round),
      tpr: thin.tpr.map(round),
    });
  }
  return curves;
}

function round(x: number): number {
  const f = 10 ** ROC_DECIMALS;
  return Math.round(x * f) / f;
}
