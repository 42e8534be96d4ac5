// From a data config and the run seed to float32 train/val/test arrays: load, carve validation,
// apply --limit, fit normalization on the final training split, apply it everywhere.

import type { DataConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { applyPreprocess, fitPreprocess, type Preprocess } from './normalize.ts';
import { describePreprocess, type InputShapeOption, ownDataOptions, resolveInputShape } from './own-options.ts';
import { loadRawDataset } from './registry.ts';
import { carveValidation, sampleSplit } from './splits.ts';
import type { DatasetMeta, DatasetSource, FeatureArray, LoaderOptions, Split } from './types.ts';

/**
 * Preprocessed features of one split, made on first read of `x` (once); until then `unprocessed` holds
 * the raw features and the preprocessing, and toDevice (train/device-data.ts) writes the preprocessed
 * values straight into the tensor's memory instead.
 */
export interface LazyFeatures {
  readonly x: Float32Array;
  n: number;
  /** The features before preprocessing (what a data fingerprint hashes, with the preprocessing). */
  raw: FeatureArray | Float32Array;
  readonly unprocessed?: { x: FeatureArray; preprocess: Preprocess } | undefined;
}

/** A split ready for the trainer: preprocessed features and int32 labels. */
export interface PreparedSplit extends LazyFeatures {
  y: Int32Array;
}

export function lazyFeatures(s: { x: FeatureArray; n: number }, preprocess: Preprocess): LazyFeatures {
  let x: Float32Array | null = null;
  return {
    get x() {
      x ??= applyPreprocess(preprocess, s.x, s.n);
      return x;
    },
    get unprocessed() {
      return x ? undefined : { x: s.x, preprocess };
    },
    n: s.n,
    raw: s.x,
  };
}

/** lazyFeatures with the split's labels. */
export function lazySplit(s: Split, preprocess: Preprocess): PreparedSplit {
  const features = lazyFeatures(s, preprocess);
  return Object.defineProperty(features, 'y', { value: Int32Array.from(s.y), enumerable: true }) as PreparedSplit;
}

export interface PreparedData {
  dataset: DatasetMeta;
  /** Where the data came from: origin, and for your own data its fingerprint and test split. */
  source?: DatasetSource;
  preprocess: Preprocess;
  train: PreparedSplit;
  val: PreparedSplit;
  test: PreparedSplit;
  counts: { train: number; val: number; test: number; trainPool: number };
  /** Every seed used, for the run record (docs/design.md: every seed used is recorded). */
  seeds: { valSplit: number; limit: number; limitVal: number };
}

export interface PrepareOptions extends LoaderOptions {
  /**
   * [784] for an MLP, [28, 28, 1] for a CNN: decided by the model, or a function of the dataset's own
   * shape (an MLP flattens an image, a table is already flat).
   */
  inputShape: InputShapeOption;
}

/**
 * The test split is only ever preprocessed here, never sampled or inspected: model selection uses
 * the validation split, which is carved from training data with the run's seed.
 */
export async function prepareData(cfg: DataConfig, seed: number, opts: PrepareOptions): Promise<PreparedData> {
  checkLimit(cfg.limit);
  const raw = await loadRawDataset(cfg.dataset, { ...opts, own: opts.own ?? ownDataOptions(cfg, [cfg.label]) });
  const seeds = {
    valSplit: deriveSeed(seed, 'val-split'),
    limit: deriveSeed(seed, 'limit'),
    limitVal: deriveSeed(seed, 'limit-val'),
  };
  const carved = carveValidation(raw.train, cfg.validation, seeds.valSplit);
  let { train, val } = carved;
  if (cfg.limit !== null) {
    train = sampleSplit(train, cfg.limit, new Rng(seeds.limit));
    val = sampleSplit(val, limitedValSize(cfg.limit, cfg.validation), new Rng(seeds.limitVal));
  }
  const inputShape = resolveInputShape(opts.inputShape, raw.inputShape);
  // What a checkpoint's single output means: the CSV label column's classes, or the dataset's.
  const labels = raw.input?.kind === 'table' ? cfg.label : 'label';
  const preprocess = describePreprocess(fitPreprocess(cfg.normalize, train, inputShape, raw.input), raw, [
    { name: labels, labels, classes: raw.classNames },
  ]);
  const finish = (s: Split): PreparedSplit => lazySplit(s, preprocess);
  const { spec, name, numClasses, classNames } = raw;
  return {
    dataset: {
      spec,
      name,
      numClasses,
      classNames,
      inputShape: raw.inputShape,
      ...(raw.input ? { input: raw.input } : {}),
    },
    ...(raw.source ? { source: raw.source } : {}),
    preprocess,
    train: finish(train),
    val: finish(val),
    test: finish(raw.test),
    counts: { train: train.n, val: val.n, test: raw.test.n, trainPool: carved.train.n },
    seeds,
  };
}

/**
 * With --limit, validation shrinks in proportion so it keeps the configured train:val ratio
 * (a smoke run should not spend most of its time validating 6,000 examples); at least 1.
 */
export function limitedValSize(limit: number, validation: number): number {
  if (validation <= 0) return 0;
  return Math.max(1, Math.round((limit * validation) / (1 - validation)));
}

function checkLimit(limit: number | null): void {
  if (limit !== null && !(Number.isInteger(limit) && limit > 0)) {
    throw new ConfigError([{ path: 'data.limit', message: `must be a positive integer or null, got ${limit}` }]);
  }
}
