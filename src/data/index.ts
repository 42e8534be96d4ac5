// Public API of src/data: dataset registry and loaders, decoded cache, splits, normalization.
export type { DatasetMeta, DatasetSource, LoaderOptions, RawDataset, Split } from './types.ts';
export { featureCount } from './types.ts';
export { parseIdx, loadIdxDir, findIdxFiles, type IdxArray, type IdxKind } from './idx.ts';
export { loadMnist, MNIST_PACKAGE } from './mnist.ts';
export { loadFashion, FASHION_CLASS_NAMES, FASHION_PACKAGE, FASHION_SPLIT, FASHION_SPLIT_SEED } from './fashion.ts';
export { resolveCacheDir, CACHE_VERSION } from './cache.ts';
export {
  loadRawDataset,
  listDatasets,
  parseDatasetSpec,
  parseClassList,
  selectClasses,
  type DatasetInfo,
  type DatasetSpec,
} from './registry.ts';
export {
  stratifiedSplit,
  splitValidation,
  sampleSplit,
  subsetSplit,
  labelCounts,
  type StratifiedIndices,
} from './splits.ts';
export {
  fitPreprocess,
  applyPreprocess,
  featureStats,
  PIXEL_SCALE,
  type Preprocess,
  type PreprocessStep,
} from './normalize.ts';
export { prepareData, limitedValSize, type PreparedData, type PreparedSplit, type PrepareOptions } from './prepare.ts';
