// From a data config and the run seed to float32 train/val/test arrays: load, carve validation,
// apply --limit, fit normalization on the final training split, apply it everywhere.

import type { DataConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { applyPreprocess, fitPreprocess, type Preprocess } from './normalize.ts';
import { loadRawDataset } from './registry.ts';
import { sampleSplit, splitValidation } from './splits.ts';
import type { DatasetMeta, LoaderOptions, Split } from './types.ts';

/** A split ready for the trainer: preprocessed features and int32 labels. */
export interface PreparedSplit {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export interface PreparedData {
  dataset: DatasetMeta;
  preprocess: Preprocess;
  train: PreparedSplit;
  val: PreparedSplit;
  test: PreparedSplit;
  counts: { train: number; val: number; test: number; trainPool: number };
  /** Every seed used, for the run record (docs/design.md: every seed used is recorded). */
  seeds: { valSplit: number; limit: number; limitVal: number };
}

export interface PrepareOptions extends LoaderOptions {
  /** [784] for an MLP, [28, 28, 1] for a CNN; decided by the model, not the data. */
  inputShape: number[];
}

/**
 * The test split is only ever preprocessed here, never sampled or inspected: model selection uses
 * the validation split, which is carved from training data with the run's seed.
 */
export async function prepareData(cfg: DataConfig, seed: number, opts: PrepareOptions): Promise<PreparedData> {
  checkLimit(cfg.limit);
  const raw = await loadRawDataset(cfg.dataset, opts);
  const seeds = {
    valSplit: deriveSeed(seed, 'val-split'),
    limit: deriveSeed(seed, 'limit'),
    limitVal: deriveSeed(seed, 'limit-val'),
  };
  const carved = splitValidation(raw.train, cfg.validation, new Rng(seeds.valSplit));
  let { train, val } = carved;
  if (cfg.limit !== null) {
    train = sampleSplit(train, cfg.limit, new Rng(seeds.limit));
    val = sampleSplit(val, limitedValSize(cfg.limit, cfg.validation), new Rng(seeds.limitVal));
  }
  const preprocess = fitPreprocess(cfg.normalize, train, opts.inputShape);
  const finish = (s: Split): PreparedSplit => ({
    x: applyPreprocess(preprocess, s.x, s.n),
    y: Int32Array.from(s.y),
    n: s.n,
  });
  const { spec, name, numClasses, classNames, inputShape } = raw;
  return {
    dataset: { spec, name, numClasses, classNames, inputShape },
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
