// Two-object datasets for multi-task learning: MultiMNIST (Sener & Koltun 2018), Multi-Fashion and
// Multi-(Fashion+MNIST) (Lin et al. 2019). Built from the existing loaders, deterministic, cached.
import path from 'node:path';
import { Rng } from '../random/rng.ts';
import { loadWithCache, resolveCacheDir } from './cache.ts';
import { loadFashion } from './fashion.ts';
import { loadMnist } from './mnist.ts';
import { type LoaderOptions, pixelsOf, type RawDataset, type Split } from './types.ts';

export type MultiDatasetName = 'multimnist' | 'multifashion' | 'multi-fashion-mnist';

/**
 * Sener & Koltun's construction (MultiObjectiveOptimization, multi_mnist_loader.py): on a 36×36
 * canvas the left image sits at (0,0), the right one at (6,6), overlapping pixels take the max,
 * and the canvas is resized back to 28×28 by nearest neighbour.
 */
export const CANVAS = 36;
export const OFFSET = 6;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Labels are packed as left·PACK + right; every built-in set has at most 10 classes per side. */
export const PACK = 10;
/** Fixed pairing seed: the pairs are part of the dataset, never of a run (2018: the paper's year). */
export const MULTI_SEED = 2018;
/** Bump when the construction changes, so stale caches are rebuilt. */
const CONSTRUCTION_VERSION = 1;

interface Recipe {
  title: string;
  left: (opts: LoaderOptions) => RawDataset;
  right: (opts: LoaderOptions) => RawDataset;
}

const RECIPES: Record<MultiDatasetName, Recipe> = {
  multimnist: { title: 'MultiMNIST', left: loadMnist, right: loadMnist },
  multifashion: { title: 'MultiFashion', left: loadFashion, right: loadFashion },
  // Lin et al.'s Multi-(Fashion+MNIST): a digit on the left, a clothing item on the right.
  'multi-fashion-mnist': { title: 'Multi-(Fashion+MNIST)', left: loadMnist, right: loadFashion },
};

/** A two-label dataset: `y` packs both labels as left·PACK + right so the split helpers apply unchanged. */
export interface MultiRawDataset {
  raw: RawDataset;
  left: { numClasses: number; classNames: string[] };
  right: { numClasses: number; classNames: string[] };
}

export function loadMultiDataset(name: MultiDatasetName, opts: LoaderOptions = {}): MultiRawDataset {
  const recipe = RECIPES[name];
  const a = recipe.left(opts);
  const b = recipe.right(opts);
  const build = (): RawDataset => ({
    spec: name,
    name: recipe.title,
    inputShape: [SIDE, SIDE, 1],
    numClasses: a.numClasses * b.numClasses,
    classNames: packedClassNames(a.classNames, b.classNames),
    train: composeSplit(a.train, b.train, new Rng(MULTI_SEED)),
    // A different stream for test pairs, so train and test pairings are independent.
    test: composeSplit(a.test, b.test, new Rng(MULTI_SEED + 1)),
    source: { origin: `${a.source?.origin ?? a.spec} + ${b.source?.origin ?? b.spec}`, skippedRecords: 0 },
  });
  const raw =
    opts.cache === false
      ? build()
      : loadWithCache(
          path.join(resolveCacheDir(opts.cacheDir), `${name}.bin`),
          {
            dataset: name,
            origin: `${a.source?.origin ?? a.spec}+${b.source?.origin ?? b.spec}`,
            files: [],
            params: { seed: MULTI_SEED, canvas: CANVAS, offset: OFFSET, construction: CONSTRUCTION_VERSION },
          },
          [],
          build,
        );
  return {
    raw,
    left: { numClasses: a.numClasses, classNames: a.classNames },
    right: { numClasses: b.numClasses, classNames: b.classNames },
  };
}

function packedClassNames(left: string[], right: string[]): string[] {
  return left.flatMap((l) => right.map((r) => `${l} | ${r}`));
}

/** Every left image gets a uniformly drawn partner from the right set's same split. */
export function composeSplit(left: Split, right: Split, rng: Rng): Split {
  const n = left.n;
  const [lx, rx] = [pixelsOf(left), pixelsOf(right)];
  const x = new Uint8Array(n * PIXELS);
  const y = new Uint8Array(n);
  const canvas = new Uint8Array(CANVAS * CANVAS);
  for (let i = 0; i < n; i++) {
    const j = rng.int(right.n);
    overlayPair(lx.subarray(i * PIXELS, (i + 1) * PIXELS), rx.subarray(j * PIXELS, (j + 1) * PIXELS), canvas);
    resizeNearest(canvas, CANVAS, SIDE, x.subarray(i * PIXELS, (i + 1) * PIXELS));
    y[i] = left.y[i]! * PACK + right.y[j]!;
  }
  return { x, y, n };
}

/** Left image at (0,0), right at (OFFSET, OFFSET) on the canvas; the overlap keeps the brighter pixel. */
export function overlayPair(left: Uint8Array, right: Uint8Array, canvas: Uint8Array): void {
  canvas.fill(0);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) canvas[r * CANVAS + c] = left[r * SIDE + c]!;
  }
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const k = (r + OFFSET) * CANVAS + c + OFFSET;
      canvas[k] = Math.max(canvas[k]!, right[r * SIDE + c]!);
    }
  }
}

/** PIL's NEAREST resize (what scipy's imresize called): source index ⌊(i + ½)·from/to⌋. */
export function resizeNearest(src: Uint8Array, from: number, to: number, out: Uint8Array): void {
  const scale = from / to;
  for (let r = 0; r < to; r++) {
    const sr = Math.min(from - 1, Math.floor((r + 0.5) * scale));
    for (let c = 0; c < to; c++) {
      const sc = Math.min(from - 1, Math.floor((c + 0.5) * scale));
      out[r * to + c] = src[sr * from + sc]!;
    }
  }
}
