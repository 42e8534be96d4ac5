// IDX file format (LeCun's MNIST format): parse raw or gzipped files, and load a directory of the
// four standard files as a dataset, with errors that name the file and what is wrong with it.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { InputError } from '../errors.ts';
import type { RawDataset, Split } from './types.ts';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export type IdxKind = 'images' | 'labels';

/** Magic numbers: two zero bytes, type 0x08 (unsigned byte), then the number of dimensions. */
const MAGIC: Record<IdxKind, number> = { labels: 0x00000801, images: 0x00000803 };
const UBYTE = 0x08;

const hex = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** Parse one IDX buffer; `expect` pins images (3-D) or labels (1-D), otherwise either is accepted. */
export function parseIdx(buf: Uint8Array, source: string, expect?: IdxKind): IdxArray {
  const bytes = isGzip(buf) ? gunzip(buf, source) : buf;
  if (bytes.length < 4) throw new InputError(`${source}: file too short (${bytes.length} bytes) to be an IDX file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const wanted = expect ? [MAGIC[expect]] : [MAGIC.labels, MAGIC.images];
  if (!wanted.includes(magic)) throw new InputError(`${source}: ${describeBadMagic(magic, expect)}`);
  const rank = magic & 0xff;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new InputError(`${source}: file too short (${bytes.length} bytes) for a ${rank}-D IDX header`);
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new InputError(`${source}: size ${bytes.length} bytes, expected ${expected} for ${dims.join('x')}`);
  }
  // A plain Uint8Array view (not a Buffer) so Buffer's different slice() semantics never leak out.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, expected - headerBytes) };
}

function describeBadMagic(magic: number, expect?: IdxKind): string {
  const type = (magic >>> 8) & 0xff;
  const typeNote =
    magic >>> 16 === 0 && type !== UBYTE
      ? `; data type 0x${type.toString(16).padStart(2, '0')} is not supported, only unsigned byte (0x08)`
      : '';
  const want = expect
    ? `${hex(MAGIC[expect])} for ${expect}`
    : `${hex(MAGIC.labels)} for labels or ${hex(MAGIC.images)} for images`;
  return `bad magic number ${hex(magic)} (expected ${want})${typeNote}`;
}

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function gunzip(buf: Uint8Array, source: string): Uint8Array {
  try {
    return zlib.gunzipSync(buf);
  } catch (err) {
    throw new InputError(`${source}: corrupt gzip data (${(err as Error).message})`);
  }
}

const PARTS = ['train-images', 'train-labels', 't10k-images', 't10k-labels'] as const;
type Part = (typeof PARTS)[number];

/** Accepted spellings: `train-images-idx3-ubyte`, `train-images.idx3-ubyte`, either with `.gz`. */
function candidateNames(part: Part): string[] {
  const rank = part.endsWith('images') ? 3 : 1;
  const bases = [`${part}-idx${rank}-ubyte`, `${part}.idx${rank}-ubyte`];
  // Raw files first: they need no decompression.
  return [...bases, ...bases.map((b) => `${b}.gz`)];
}

/** Locate the four files in `dir`; an InputError lists every missing one with the accepted names. */
export function findIdxFiles(dir: string): Record<Part, string> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InputError(`${dir}: IDX dataset directory not found`);
  }
  const present = new Set(fs.readdirSync(dir));
  const found: Partial<Record<Part, string>> = {};
  const missing: string[] = [];
  for (const part of PARTS) {
    const names = candidateNames(part);
    const name = names.find((n) => present.has(n));
    if (name) found[part] = path.join(dir, name);
    else missing.push(`${part} (${names.join(' | ')})`);
  }
  if (missing.length > 0) {
    throw new InputError(`${dir}: missing IDX file(s): ${missing.join(', ')}`);
  }
  return found as Record<Part, string>;
}

function readSplit(imagesPath: string, labelsPath: string): { split: Split; rows: number; cols: number } {
  const images = parseIdx(fs.readFileSync(imagesPath), imagesPath, 'images');
  const labels = parseIdx(fs.readFileSync(labelsPath), labelsPath, 'labels');
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new InputError(`${labelsPath}: ${labels.dims[0]} labels but ${imagesPath} has ${n} images`);
  }
  return { split: { x: images.data, y: labels.data, n }, rows, cols };
}

function maxLabel(y: ArrayLike<number>): number {
  let max = -1;
  for (let i = 0; i < y.length; i++) if (y[i]! > max) max = y[i]!;
  return max;
}

/** Load the four standard IDX files of `dir` (raw or .gz) as a dataset with classes 0..max label. */
export function loadIdxDir(dir: string, spec = `idx:${dir}`): RawDataset {
  const files = findIdxFiles(dir);
  const train = readSplit(files['train-images'], files['train-labels']);
  const test = readSplit(files['t10k-images'], files['t10k-labels']);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new InputError(
      `${dir}: train images are ${train.rows}x${train.cols} but test images are ${test.rows}x${test.cols}`,
    );
  }
  if (train.split.n === 0) throw new InputError(`${files['train-images']}: no training examples`);
  const numClasses = Math.max(maxLabel(train.split.y), maxLabel(test.split.y)) + 1;
  return {
    spec,
    name: `IDX ${path.basename(path.resolve(dir))}`,
    inputShape: [train.rows, train.cols, 1],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
    train: train.split,
    test: test.split,
    source: { origin: path.resolve(dir), skippedRecords: 0 },
  };
}
