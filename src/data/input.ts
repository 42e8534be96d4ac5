// What one raw example is, recorded in preprocess.json so a checkpoint can be fed outside mtl: an
// image's size, channels and how files are brought to it, or a table's columns and how each is encoded.
import type { MissingPolicy } from '../config/types.ts';

/**
 * Images become `height × width × channels` bytes, row-major (HWC). Another size is resized with
 * bilinear interpolation and half-pixel centres, no antialiasing, aspect ratio not kept: what Keras's
 * `image_dataset_from_directory` does by default (tf.image.resize, `crop_to_aspect_ratio=False`).
 * Colour becomes grayscale as ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B, as PIL's `L` and
 * tf.image.rgb_to_grayscale); grayscale becomes RGB by repeating it; an alpha channel is dropped
 * (as PIL's `convert('RGB')`, which Keras's loader uses).
 */
export interface ImageInput {
  kind: 'image';
  height: number;
  width: number;
  channels: 1 | 3;
  resize: 'bilinear-half-pixel';
  grayscale: 'bt601-luma';
  alpha: 'dropped';
  layout: 'HWC';
  /** Raw values are the image's bytes 0–255 (before `steps`). */
  range: [0, 255];
}

/** A numeric column: its value as a float (after `steps`: standardized with the stats recorded here). */
export interface NumericColumn {
  name: string;
  type: 'numeric';
  /** Training-split mean (filled into missing cells under data.missing: mean) and std, raw units. */
  mean?: number;
  std?: number;
  /** Training-split minimum and maximum (data.normalize: scale01). */
  min?: number;
  max?: number;
}

/** A text (or data.categorical) column: one 0/1 feature per category, in this order; unknown → all 0. */
export interface CategoryColumn {
  name: string;
  type: 'category';
  categories: string[];
}

export type TableColumn = NumericColumn | CategoryColumn;

export interface TableInput {
  kind: 'table';
  /** Feature columns in encoded order; a numeric column is 1 feature, a category column one per category. */
  columns: TableColumn[];
  missing: MissingPolicy;
  delimiter: string;
  /** Cells read as missing (pandas' default na_values, plus UCI's `?`). */
  missingTokens: string[];
}

export type InputDescription = ImageInput | TableInput;

/** Cells that mean "no value": pandas' default na_values (the common ones) and UCI's `?`. */
export const MISSING_TOKENS = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '?'];

export function imageInput(height: number, width: number, channels: 1 | 3): ImageInput {
  return {
    kind: 'image',
    height,
    width,
    channels,
    resize: 'bilinear-half-pixel',
    grayscale: 'bt601-luma',
    alpha: 'dropped',
    layout: 'HWC',
    range: [0, 255],
  };
}

/** Encoded width of a table: one feature per numeric column, one per category. */
export function encodedWidth(columns: readonly TableColumn[]): number {
  return columns.reduce((a, c) => a + (c.type === 'numeric' ? 1 : c.categories.length), 0);
}

/** Names of the encoded features: `col` for a numeric column, `col=category` for each one-hot feature. */
export function encodedNames(columns: readonly TableColumn[]): string[] {
  return columns.flatMap((c) => (c.type === 'numeric' ? [c.name] : c.categories.map((k) => `${c.name}=${k}`)));
}

/** The input of a dataset that says nothing about itself: an image of its shape (MNIST, IDX, old runs). */
export function describeInput(shape: readonly number[], input?: InputDescription): InputDescription {
  if (input) return input;
  const [h = 1, w = 1, c = 1] = shape.length === 1 ? squareOf(shape[0]!) : shape;
  return imageInput(h, w, c === 3 ? 3 : 1);
}

/** [784] → [28, 28, 1]: the flat MNIST-style checkpoints of before preprocess.json described inputs. */
function squareOf(n: number): number[] {
  const side = Math.round(Math.sqrt(n));
  return side * side === n ? [side, side, 1] : [1, n, 1];
}
