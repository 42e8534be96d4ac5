// `images:<dir>`: a folder of class sub-folders → decoded uint8 splits, through the same decoded-data
// cache as MNIST, keyed by a fingerprint of every file (path, size, sha256) and the decode settings.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataError, type DataProblem } from '../../errors.ts';
import { loadWithCache, resolveCacheDir } from '../cache.ts';
import { HOLDOUT_SEED, holdoutSplit } from '../holdout.ts';
import { type ImageInput, imageInput } from '../input.ts';
import { subsetSplit } from '../splits.ts';
import type { LoaderOptions, RawDataset, Split } from '../types.ts';
import { decodeImage, decodeTo } from './decode.ts';
import { type ImageFile, type ImageLayout, scanImageFolder } from './scan.ts';

/** Bump when decoding or resizing changes, so cached pixels are rebuilt. */
const DECODE_VERSION = 1;
const DEFAULT_TEST = 0.2;

export function loadImageFolder(dir: string, spec: string, opts: LoaderOptions = {}): RawDataset {
  const own = opts.own ?? {};
  const test = own.test ?? DEFAULT_TEST;
  const problems: DataProblem[] = [];
  const layout = scanImageFolder(dir, problems, typeof test === 'string' ? test : undefined);
  const files = [...layout.train, ...(layout.test ?? [])];
  const input = resolveInput(layout.train, own.image ?? { size: null, channels: null });
  if (problems.length > 0) {
    // Decode what there is anyway: a corrupt file is listed with the folder problems, in one pass.
    decodeAll(files, input, problems);
    throw new DataError(problems, `cannot use ${spec}`);
  }
  const settings = { height: input.height, width: input.width, channels: input.channels, test, seed: HOLDOUT_SEED };
  const fingerprint = fingerprintFiles(files, { ...settings, version: DECODE_VERSION });
  const build = (): RawDataset => buildImages(layout, input, test, spec, fingerprint);
  if (opts.cache === false) return build();
  const key = { dataset: 'images', origin: layout.root, files: [], params: { fingerprint } };
  // One cache file per folder and settings: a changed file rewrites it, another size gets its own.
  const name = createHash('sha256')
    .update(JSON.stringify([layout.root, settings]))
    .digest('hex')
    .slice(0, 16);
  const ds = loadWithCache(path.join(resolveCacheDir(opts.cacheDir), `images-${name}.bin`), key, [], build);
  return { ...ds, spec };
}

/**
 * data.image, with a null size or channels taken from the first training image that decodes (a
 * corrupt one is reported with all the others when everything is decoded).
 */
function resolveInput(
  files: ImageFile[],
  image: { size: [number, number] | null; channels: 1 | 3 | null },
): ImageInput {
  if (image.size && image.channels) return imageInput(image.size[0], image.size[1], image.channels);
  for (const f of files) {
    let img: ReturnType<typeof decodeImage>;
    try {
      img = decodeImage(fs.readFileSync(f.file));
    } catch {
      continue; // reported by decodeAll, together with every other file that fails
    }
    const [h, w] = image.size ?? [img.height, img.width];
    return imageInput(h, w, image.channels ?? img.channels);
  }
  return imageInput(1, 1, 1);
}

/** sha256 over every file's relative path, size and content hash, and the settings. */
function fingerprintFiles(files: ImageFile[], settings: object): string {
  const h = createHash('sha256');
  for (const f of files) {
    const bytes = fs.readFileSync(f.file);
    h.update(`${f.rel}\0${bytes.length}\0${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  return h.update(JSON.stringify(settings)).digest('hex');
}

/** Decode every file (all failures listed together), then split. */
function buildImages(
  layout: ImageLayout,
  input: ImageInput,
  test: number | string,
  spec: string,
  fingerprint: string,
): RawDataset {
  const problems: DataProblem[] = [];
  const train = decodeAll(layout.train, input, problems);
  const own = layout.test ? decodeAll(layout.test, input, problems) : null;
  if (problems.length > 0) throw new DataError(problems, `cannot use ${spec}`);
  let splits: { train: Split; test: Split };
  let testSplit: { fraction: number; seed: number; stratifiedBy: string } | undefined;
  if (own) splits = { train, test: own };
  else {
    const fraction = typeof test === 'number' ? test : DEFAULT_TEST;
    const idx = holdoutSplit(train.y, fraction);
    splits = { train: subsetSplit(train, idx.train), test: subsetSplit(train, idx.test) };
    testSplit = { fraction, seed: HOLDOUT_SEED, stratifiedBy: 'class folder' };
  }
  return {
    spec,
    name: `images ${path.basename(layout.root)}`,
    inputShape: [input.height, input.width, input.channels],
    numClasses: layout.classNames.length,
    classNames: layout.classNames,
    ...splits,
    input,
    source: { origin: layout.root, skippedRecords: 0, fingerprint, ...(testSplit ? { testSplit } : {}) },
  };
}

function decodeAll(files: ImageFile[], input: ImageInput, problems: DataProblem[]): Split {
  const size = input.height * input.width * input.channels;
  const x = new Uint8Array(files.length * size);
  const y = new Uint8Array(files.length);
  files.forEach((f, i) => {
    y[i] = f.label;
    try {
      x.set(decodeTo(fs.readFileSync(f.file), input), i * size);
    } catch (err) {
      problems.push({ file: f.file, message: (err as Error).message });
    }
  });
  return { x, y, n: files.length };
}
