// The layout of an image folder: `<dir>/<class>/…` or `<dir>/train/<class>/…` (+ `<dir>/test/<class>/…`),
// class names in byte order, image files found recursively in byte order; every problem listed at once.
import fs from 'node:fs';
import path from 'node:path';
import { type DataProblem, InputError } from '../../errors.ts';
import { byteOrder } from '../csv/cells.ts';

/** Extensions read (case-insensitive), as Keras's image_dataset_from_directory minus gif/bmp. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
/** Labels are stored as bytes in the decoded cache. */
export const MAX_IMAGE_CLASSES = 256;

export interface ImageFile {
  /** Absolute path. */
  file: string;
  /** Path relative to the dataset folder (what fingerprints and messages use). */
  rel: string;
  label: number;
}

export interface ImageLayout {
  root: string;
  classNames: string[];
  train: ImageFile[];
  /** null: no test folder, a test split is held out. */
  test: ImageFile[] | null;
}

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

function subfolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byteOrder);
}

/** Image files under `dir`, recursively (hidden entries skipped), in byte order of their paths. */
function imagesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => byteOrder(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (isImage(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * `train/` holding class folders makes the split layout; anything else is one folder of classes.
 * Problems (empty or unknown class folders, too few classes) are appended to `problems`, and the
 * files that were found are still returned, so decoding them can report every other problem too.
 */
export function scanImageFolder(dir: string, problems: DataProblem[], testDir?: string): ImageLayout {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new InputError(`images:${dir}: folder not found (expected a folder with one sub-folder per class)`);
  const root = path.resolve(dir);
  const split = fs.existsSync(path.join(root, 'train')) && subfolders(path.join(root, 'train')).length > 0;
  const trainDir = split ? path.join(root, 'train') : root;
  const classNames = subfolders(trainDir);
  if (classNames.length === 0 && imagesUnder(trainDir).length > 0)
    problems.push({
      file: trainDir,
      message: 'images but no class sub-folders: put each image in a folder named after its class',
    });
  else if (classNames.length < 2)
    problems.push({ file: trainDir, message: `${classNames.length} class folder(s): classification needs at least 2` });
  if (classNames.length > MAX_IMAGE_CLASSES)
    problems.push({ file: trainDir, message: `${classNames.length} class folders: at most ${MAX_IMAGE_CLASSES}` });
  const train = classFiles(root, trainDir, classNames, problems);
  const ownTest = split && fs.existsSync(path.join(root, 'test')) ? path.join(root, 'test') : null;
  if (ownTest && testDir)
    problems.push({ file: root, message: `has a test/ folder, and data.test names ${testDir}: keep one` });
  const testRoot = testDir ? path.resolve(testDir) : ownTest;
  const test = testRoot ? testFiles(root, testRoot, classNames, problems) : null;
  return { root, classNames, train, test };
}

function classFiles(root: string, dir: string, classNames: string[], problems: DataProblem[]): ImageFile[] {
  return classNames.flatMap((name, label) => {
    const files = imagesUnder(path.join(dir, name));
    if (files.length === 0)
      problems.push({
        file: path.join(dir, name),
        message: `empty class folder (no ${IMAGE_EXTENSIONS.join('/')} files)`,
      });
    return files.map((file) => ({ file, rel: path.relative(root, file), label }));
  });
}

function testFiles(root: string, testRoot: string, classNames: string[], problems: DataProblem[]): ImageFile[] {
  if (!fs.existsSync(testRoot) || !fs.statSync(testRoot).isDirectory()) {
    problems.push({ file: testRoot, message: 'test folder not found' });
    return [];
  }
  const names = subfolders(testRoot);
  for (const name of names.filter((n) => !classNames.includes(n)))
    problems.push({
      file: path.join(testRoot, name),
      message: `class '${name}' is not a training class (${classNames.join(', ')})`,
    });
  const known = names.filter((n) => classNames.includes(n));
  return known.flatMap((name) => {
    const files = imagesUnder(path.join(testRoot, name));
    if (files.length === 0) problems.push({ file: path.join(testRoot, name), message: 'empty class folder' });
    const label = classNames.indexOf(name);
    return files.map((file) => ({ file, rel: path.relative(root, file), label }));
  });
}
