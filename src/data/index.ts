// Public API of src/data: dataset registry and loaders, decoded cache, splits, normalization.

export { CACHE_VERSION, resolveCacheDir } from './cache.ts';
export { FASHION_CLASS_NAMES, FASHION_PACKAGE, FASHION_SPLIT, FASHION_SPLIT_SEED, loadFashion } from './fashion.ts';
export { findIdxFiles, type IdxArray, type IdxKind, loadIdxDir, parseIdx } from './idx.ts';
export { loadMnist, MNIST_PACKAGE } from './mnist.ts';
export {
  applyPreprocess,
  featureStats,
  fitPreprocess,
  PIXEL_SCALE,
  type Preprocess,
  type PreprocessStep,
} from './normalize.ts';
export { limitedValSize, type PreparedData, type PreparedSplit, type PrepareOptions, prepareData } from './prepare.ts';
export {
  type DatasetInfo,
  type DatasetSpec,
  listDatasets,
  loadRawDataset,
  parseClassList,
  parseDatasetSpec,
  selectClasses,
} from './registry.ts';
export {
  labelCounts,
  type StratifiedIndices,
  sampleSplit,
  splitValidation,
  stratifiedSplit,
  subsetSplit,
} from './splits.ts';
export type { DatasetMeta, DatasetSource, LoaderOptions, RawDataset, Split } from './types.ts';
export { featureCount } from './types.ts';
