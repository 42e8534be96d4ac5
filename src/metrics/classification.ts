// Single-task classification metrics on plain arrays: confusion matrix, precision/recall/F1,
// cross-entropy and one-vs-rest ROC AUC. Pure functions, no tfjs, so each is testable by hand.

import { InputError } from '../errors.ts';

/** Keras's backend epsilon: probabilities are clipped to [EPS, 1 - EPS] before the log. */
export const PROB_EPSILON = 1e-7;

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of examples whose true class is this one. */
  support: number;
}

/** Counts with rows = true class and columns = predicted class. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  if (yTrue.length !== yPred.length) {
    throw new InputError(`confusionMatrix: ${yTrue.length} labels but ${yPred.length} predictions`);
  }
  const conf = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = checkLabel(yTrue[i]!, numClasses, i);
    const p = checkLabel(yPred[i]!, numClasses, i);
    conf[t]![p]! += 1;
  }
  return conf;
}

function checkLabel(label: number, numClasses: number, index: number): number {
  if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
    throw new InputError(`label ${label} at index ${index} is not a class in 0..${numClasses - 1}`);
  }
  return label;
}

/** Fraction of examples on the diagonal; NaN for an empty matrix (there is nothing to score). */
export function accuracyFromConfusion(conf: number[][]): number {
  let correct = 0;
  let total = 0;
  conf.forEach((row, t) => {
    row.forEach((n, p) => {
      total += n;
      if (t === p) correct += n;
    });
  });
  return total === 0 ? NaN : correct / total;
}

/** Per-class precision/recall/F1; an undefined ratio (0/0) is 0, as sklearn's zero_division=0. */
export function perClassMetrics(conf: number[][]): ClassMetrics[] {
  const k = conf.length;
  return conf.map((row, c) => {
    const tp = row[c]!;
    const support = sum(row);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += conf[t]![c]!;
    const precision = safeDiv(tp, predicted);
    const recall = safeDiv(tp, support);
    const f1 = safeDiv(2 * precision * recall, precision + recall);
    return { precision, recall, f1, support };
  });
}

/**
 * Mean per-class F1 over the classes that occur in the labels or the predictions: this is what
 * sklearn's f1_score(average='macro') does by default (labels = unique_labels(y_true, y_pred)).
 * A class that is neither present nor predicted carries no evidence, so it does not count as F1 = 0.
 * Returns 0 for an empty matrix.
 */
export function macroF1(conf: number[][]): number {
  const metrics = perClassMetrics(conf);
  let total = 0;
  let count = 0;
  metrics.forEach((m, c) => {
    const predicted = conf.reduce((acc, row) => acc + row[c]!, 0);
    if (m.support === 0 && predicted === 0) return;
    total += m.f1;
    count += 1;
  });
  return count === 0 ? 0 : total / count;
}

/** Index of the largest probability in each row; the first one wins ties (as numpy/tf argmax). */
export function argmaxRows(probs: Float32Array, numClasses: number): Int32Array {
  const n = checkProbs(probs, probs.length / numClasses, numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (probs[base + c]! > probs[base + best]!) best = c;
    }
    out[i] = best;
  }
  return out;
}

/** Mean of -log p(true class), probabilities clipped as Keras does so one 0 cannot give Infinity. */
export function crossEntropy(yTrue: ArrayLike<number>, probs: Float32Array, numClasses: number): number {
  const n = checkProbs(probs, yTrue.length, numClasses);
  if (n === 0) return NaN;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const label = checkLabel(yTrue[i]!, numClasses, i);
    const p = Math.min(Math.max(probs[i * numClasses + label]!, PROB_EPSILON), 1 - PROB_EPSILON);
    total -= Math.log(p);
  }
  return total / n;
}

/**
 * Macro one-vs-rest ROC AUC. Each class's AUC is the Mann–Whitney statistic
 * (R_pos − n_pos(n_pos+1)/2) / (n_pos·n_neg) with average ranks for tied scores, which equals the
 * trapezoidal area under the ROC curve, in O(N log N). Classes without positives or without
 * negatives have no AUC and are skipped; NaN when no class remains or a probability is NaN.
 */
export function aucRocOvr(yTrue: ArrayLike<number>, probs: Float32Array, numClasses: number): number {
  const n = checkProbs(probs, yTrue.length, numClasses);
  const labels = Int32Array.from({ length: n }, (_, i) => checkLabel(yTrue[i]!, numClasses, i));
  // A diverged model emits NaN; ranking NaN is meaningless, so report "no AUC" rather than a number.
  if (probs.some(Number.isNaN)) return NaN;
  const scores = new Float64Array(n);
  let total = 0;
  let counted = 0;
  for (let c = 0; c < numClasses; c++) {
    for (let i = 0; i < n; i++) scores[i] = probs[i * numClasses + c]!;
    const auc = binaryAucByRank(labels, c, scores);
    if (Number.isNaN(auc)) continue;
    total += auc;
    counted += 1;
  }
  return counted === 0 ? NaN : total / counted;
}

/** Index bits of orderByScore's packed keys: 32 bits of score key + 21 of index fit a double exactly. */
const ORDER_INDEX_BITS = 21;
const f32Key = new Float32Array(1);
const u32Key = new Uint32Array(f32Key.buffer);

/**
 * The indices of `scores` sorted by score (ascending, or descending), equal scores in index order: what
 * a stable comparator sort gives (0 and −0 equal). Where every score is a float32 value (probabilities
 * are) and there are at most 2^21, each is packed into one double (the float's bits mapped to an order-
 * preserving 32-bit key, then the index) and the doubles take the engine's native numeric sort, without
 * a JavaScript comparator call per comparison (10,000 scores: ~3 ms → well under 1); else the comparator.
 */
export function orderByScore(scores: ArrayLike<number>, descending = false): Uint32Array {
  const n = scores.length;
  const packed = n <= 2 ** ORDER_INDEX_BITS ? packScores(scores, descending) : null;
  const order = new Uint32Array(n);
  if (packed) {
    orderPaths.packed++;
    packed.sort();
    for (let i = 0; i < n; i++) order[i] = packed[i]! % 2 ** ORDER_INDEX_BITS;
    return order;
  }
  orderPaths.comparator++;
  for (let i = 0; i < n; i++) order[i] = i;
  const sign = descending ? -1 : 1;
  return order.sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
}

/** How often orderByScore took each path (tests assert the packed one ran). */
export const orderPaths = { packed: 0, comparator: 0 };

/** orderByScore's packed keys, or null when a score is not a float32 value (or is NaN). */
function packScores(scores: ArrayLike<number>, descending: boolean): Float64Array | null {
  const packed = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]! === 0 ? 0 : scores[i]!; // −0 sorts as 0
    f32Key[0] = s;
    if (f32Key[0] !== s) return null;
    const bits = u32Key[0]!;
    // Negative floats: all bits flipped (larger magnitude first); positive: the sign bit set.
    let key = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    if (descending) key = 0xffffffff - key;
    packed[i] = key * 2 ** ORDER_INDEX_BITS + i;
  }
  return packed;
}

/** AUC of `scores` for "label === positive" vs the rest; NaN when one side is empty. */
export function binaryAucByRank(labels: ArrayLike<number>, positive: number, scores: Float64Array): number {
  const n = scores.length;
  const order = orderByScore(scores);
  let nPos = 0;
  let rankSumPos = 0;
  // Walk groups of equal scores; every member of a group gets the group's average 1-based rank.
  for (let start = 0; start < n; ) {
    let end = start;
    let groupPos = 0;
    while (end < n && scores[order[end]!] === scores[order[start]!]) {
      if (labels[order[end]!] === positive) groupPos += 1;
      end += 1;
    }
    const averageRank = (start + 1 + end) / 2;
    rankSumPos += groupPos * averageRank;
    nPos += groupPos;
    start = end;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Validates that probs holds `n` rows of `numClasses` and returns n. */
function checkProbs(probs: Float32Array, n: number, numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new InputError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (!Number.isInteger(n) || probs.length !== n * numClasses) {
    throw new InputError(
      `expected ${n} rows of ${numClasses} probabilities (${n * numClasses} values), got ${probs.length}`,
    );
  }
  return n;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function safeDiv(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
