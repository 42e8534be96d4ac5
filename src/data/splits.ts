// Seeded index selection: stratified train/test splits, validation hold-outs, --limit samples.
// Every choice goes through the project's Rng so a seed reproduces the exact same examples.

import { InputError } from '../errors.ts';
import { permutation, Rng } from '../random/rng.ts';
import type { FeatureArray, LabelArray, Split } from './types.ts';

export interface StratifiedIndices {
  train: Int32Array;
  test: Int32Array;
}

/**
 * Pick exactly `perClass.train` and `perClass.test` examples of every class present in `labels`.
 * One seeded permutation decides both which examples go where and their order, so classes come
 * interleaved (never grouped) and the result depends only on `labels` and `seed`.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  perClass: { train: number; test: number },
  seed: number,
): StratifiedIndices {
  const counts = countClasses(labels);
  const need = perClass.train + perClass.test;
  for (const [cls, count] of counts) {
    if (count < need) {
      throw new InputError(
        `class ${cls} has ${count} examples, needs ${need} (${perClass.train} train + ${perClass.test} test)`,
      );
    }
  }
  const train = new Int32Array(perClass.train * counts.size);
  const test = new Int32Array(perClass.test * counts.size);
  const taken = new Map<number, number>();
  let nTrain = 0;
  let nTest = 0;
  for (const i of permutation(labels.length, new Rng(seed))) {
    const cls = labels[i]!;
    const k = taken.get(cls) ?? 0;
    if (k < perClass.train) train[nTrain++] = i;
    else if (k < need) test[nTest++] = i;
    taken.set(cls, k + 1);
  }
  return { train, test };
}

function countClasses(labels: ArrayLike<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
  return counts;
}

/** Values per example of a split (0 for an empty split). */
export function splitFeatureCount(split: Split): number {
  return split.n > 0 ? split.x.length / split.n : 0;
}

/** Copy the examples at `indices` (in that order) into a new split. */
export function subsetSplit(split: Split, indices: ArrayLike<number>): Split {
  const f = splitFeatureCount(split);
  const n = indices.length;
  // Same array types as the source: bytes stay bytes (pixels), floats stay floats (tables).
  const x: FeatureArray = split.x instanceof Float64Array ? new Float64Array(n * f) : new Uint8Array(n * f);
  const y: LabelArray = split.y instanceof Int32Array ? new Int32Array(n) : new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    x.set(split.x.subarray(i * f, (i + 1) * f), k * f);
    y[k] = split.y[i]!;
  }
  return { x, y, n };
}

/**
 * The last validation carve of this process (carveValidation). A trial host (sweep/host-serve.ts)
 * runs trial after trial on the same data, and the trials of a sweep point share their seed: copying
 * MNIST's 54,000 training rows into fresh memory again cost a later trial 150–200 ms. The arrays are
 * shared between the splits returned, which nothing writes to (sampling, preprocessing and the
 * trainer's labels copy).
 */
interface Carve {
  x: Split['x'];
  y: Split['y'];
  n: number;
  fraction: number;
  seed: number;
  carved: { train: Split; val: Split };
}
let lastCarve: Carve | null = null;

/** How this process's carves were made (tests assert which path ran). */
export const carves = { reused: 0, made: 0 };

/** splitValidation with `new Rng(seed)`, reusing the last carve of the same arrays, fraction and seed. */
export function carveValidation(split: Split, fraction: number, seed: number): { train: Split; val: Split } {
  const last = lastCarve;
  const same =
    last?.x === split.x && last.y === split.y && last.n === split.n && last.fraction === fraction && last.seed === seed;
  if (same) carves.reused++;
  else {
    carves.made++;
    lastCarve = {
      x: split.x,
      y: split.y,
      n: split.n,
      fraction,
      seed,
      carved: splitValidation(split, fraction, new Rng(seed)),
    };
  }
  // Split objects of the caller's own (it may replace fields); the arrays are shared.
  const { train, val } = lastCarve!.carved;
  return { train: { ...train }, val: { ...val } };
}

/**
 * Hold out round(n · fraction) random examples for validation. Both parts keep the original order
 * of the split (indices sorted), so the choice is the only random thing; the trainer shuffles.
 */
export function splitValidation(split: Split, fraction: number, rng: Rng): { train: Split; val: Split } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new InputError(`validation fraction must be in [0, 1), got ${fraction}`);
  }
  const nVal = Math.round(split.n * fraction);
  const perm = permutation(split.n, rng);
  const val = perm.slice(0, nVal).sort();
  const train = perm.slice(nVal).sort();
  return { train: subsetSplit(split, train), val: subsetSplit(split, val) };
}

/**
 * A seeded sample of `n` examples without replacement, in the split's original order. When `n`
 * covers the whole split, the split itself is returned (splits are treated as read-only).
 */
export function sampleSplit(split: Split, n: number, rng: Rng): Split {
  if (!Number.isInteger(n) || n < 0) throw new InputError(`sample size must be a non-negative integer, got ${n}`);
  if (n >= split.n) return split;
  const chosen = permutation(split.n, rng).slice(0, n).sort();
  return subsetSplit(split, chosen);
}

/** Number of examples per label, indexed by label (length = numClasses). */
export function labelCounts(y: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]!]! += 1;
  return counts;
}
