// The test split of your own data when it has none: a stratified fraction of each class, drawn with a
// fixed seed of its own, so the test set is part of the dataset (never of a run, never of its seed).
import { permutation, Rng } from '../random/rng.ts';

/**
 * The holdout seed: fixed, like Fashion-MNIST's split seed, and independent of the run seed. 1337 is
 * the seed of Keras's own `image_dataset_from_directory` examples (validation_split=0.2, seed=1337).
 */
export const HOLDOUT_SEED = 1337;

export interface HoldoutIndices {
  /** Ascending example indices (file order is kept; the trainer shuffles). */
  train: Int32Array;
  test: Int32Array;
}

/**
 * round(count · fraction) examples of every stratum go to test, at most count − 1 (a class always
 * keeps a training example). One seeded permutation decides which; the result depends only on the
 * strata, the fraction and the seed.
 */
export function holdoutSplit(
  strata: ArrayLike<number | string>,
  fraction: number,
  seed = HOLDOUT_SEED,
): HoldoutIndices {
  const counts = new Map<number | string, number>();
  for (let i = 0; i < strata.length; i++) counts.set(strata[i]!, (counts.get(strata[i]!) ?? 0) + 1);
  const quota = new Map<number | string, number>();
  for (const [s, c] of counts) quota.set(s, Math.min(c - 1, Math.round(c * fraction)));
  const isTest = new Uint8Array(strata.length);
  for (const i of permutation(strata.length, new Rng(seed))) {
    const left = quota.get(strata[i]!)!;
    if (left > 0) {
      isTest[i] = 1;
      quota.set(strata[i]!, left - 1);
    }
  }
  const train: number[] = [];
  const test: number[] = [];
  isTest.forEach((t, i) => {
    (t ? test : train).push(i);
  });
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
