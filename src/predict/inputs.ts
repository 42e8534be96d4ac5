// The inputs of `mtl predict`, turned into raw examples the way the checkpoint was trained: image
// files and folders (decoded at its size and channels; a class sub-folder gives the true label), or
// CSV files (encoded with its columns; label columns, when present, give the true labels).
import fs from 'node:fs';
import path from 'node:path';
import { encodeFeatures, encodeLabels } from '../data/csv/encode.ts';
import { readCsv } from '../data/csv/read.ts';
import { decodeTo, sniffFormat } from '../data/images/decode.ts';
import { IMAGE_EXTENSIONS } from '../data/images/scan.ts';
import { encodedWidth, type ImageInput, type TableInput } from '../data/input.ts';
import type { OutputDescription } from '../data/normalize.ts';
import { DataError, type DataProblem } from '../errors.ts';

/** Raw examples (pixels 0–255 or encoded columns) with a name each and, per output, known labels. */
export interface PredictInputs {
  names: string[];
  x: Uint8Array | Float64Array;
  n: number;
  /** Per output: a class index per example, −1 where unknown (−2: a label that is not a class). */
  labels: Int32Array[];
}

const isImageName = (f: string): boolean => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase());

/** Image files named directly, and every image under a folder (sorted; hidden entries skipped). */
function imageFiles(input: string, problems: DataProblem[]): { file: string; folder: string | null }[] {
  if (!fs.existsSync(input)) {
    problems.push({ file: input, message: 'no such file or folder' });
    return [];
  }
  if (!fs.statSync(input).isDirectory()) return [{ file: input, folder: null }];
  const files = (fs.readdirSync(input, { recursive: true }) as string[])
    .filter((rel) => isImageName(rel) && !rel.split(path.sep).some((p) => p.startsWith('.')))
    .sort();
  if (files.length === 0)
    problems.push({ file: input, message: `no ${IMAGE_EXTENSIONS.join('/')} files in this folder` });
  // `<input>/<class>/…` names its class; so does `<input>` itself for the images directly in it.
  return files.map((rel) => ({
    file: path.join(input, rel),
    folder: rel.includes(path.sep) ? rel.split(path.sep)[0]! : path.basename(path.resolve(input)),
  }));
}

/** Images: the class of a file in `<folder>/<class>/…` is its sub-folder's name when that is a class. */
export function readImageInputs(inputs: string[], input: ImageInput, outputs: OutputDescription[]): PredictInputs {
  const problems: DataProblem[] = [];
  const files = inputs.flatMap((i) => imageFiles(i, problems));
  const size = input.height * input.width * input.channels;
  const x = new Uint8Array(files.length * size);
  files.forEach((f, i) => {
    const bytes = fs.readFileSync(f.file);
    if (sniffFormat(bytes) === null) {
      const table = /\.(csv|tsv|txt)$/i.test(f.file) ? ' (this model takes images, not table rows)' : '';
      problems.push({ file: f.file, message: `not a PNG or JPEG image${table}` });
      return;
    }
    try {
      x.set(decodeTo(bytes, input), i * size);
    } catch (err) {
      problems.push({ file: f.file, message: (err as Error).message });
    }
  });
  if (problems.length > 0) throw new DataError(problems, 'cannot predict these inputs');
  const labels = outputs.map((o) =>
    Int32Array.from(files, (f) => (f.folder !== null && outputs.length === 1 ? o.classes.indexOf(f.folder) : -1)),
  );
  return { names: files.map((f) => f.file), x, n: files.length, labels };
}

/** Tables: every row of every CSV, encoded with the checkpoint's columns; all bad cells listed at once. */
export function readTableInputs(inputs: string[], input: TableInput, outputs: OutputDescription[]): PredictInputs {
  const problems: DataProblem[] = [];
  const parts: { names: string[]; x: Float64Array; labels: Int32Array[] }[] = [];
  for (const file of inputs) {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
      problems.push({ file, message: 'a folder: this model takes table rows (CSV files), not images' });
      continue;
    }
    if (isImageName(file)) {
      problems.push({ file, message: 'an image: this model takes table rows (CSV files)' });
      continue;
    }
    if (!fs.existsSync(file)) {
      problems.push({ file, message: 'no such file' });
      continue;
    }
    try {
      const table = readCsv(file, input.delimiter, problems);
      const { x } = encodeFeatures(table, input, problems);
      const tokens = new Set(input.missingTokens);
      const labels = outputs.map((o) =>
        table.header.includes(o.labels)
          ? encodeLabels(table, o.labels, o.classes, tokens)
          : new Int32Array(table.rows.length).fill(-1),
      );
      parts.push({ names: table.rows.map((_, i) => `${file}:${i + 1}`), x, labels });
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new DataError(problems, 'cannot predict these inputs');
  const f = encodedWidth(input.columns);
  const names = parts.flatMap((p) => p.names);
  const x = new Float64Array(names.length * f);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at);
    at += p.x.length;
  }
  const labels = outputs.map((_, k) => Int32Array.from(parts.flatMap((p) => Array.from(p.labels[k]!))));
  return { names, x, n: names.length, labels };
}
