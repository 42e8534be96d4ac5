// Input normalization as data (the preprocess.json contract of docs/design.md): fitted on the training
// split only, saved with every checkpoint, applied to raw 0–255 pixels by any client.

import type { NormalizeKind } from '../config/types.ts';
import { InputError } from '../errors.ts';
import { fitTablePreprocess } from './csv/preprocess.ts';
import type { InputDescription } from './input.ts';
import { type FeatureArray, featureCount, type Split } from './types.ts';

export type PreprocessStep =
  | { op: 'scale'; factor: number }
  | { op: 'standardize'; mean: number[]; std: number[] }
  /** Tables with data.missing: mean: a missing value (NaN) becomes this, per feature; always the first step. */
  | { op: 'fillMissing'; values: number[] };

/** What a model output means: its task (`label` for one task) and class names in output order. */
export interface OutputDescription {
  name: string;
  /** The CSV column or built-in labels it was trained on. */
  labels: string;
  classes: string[];
}

/** preprocess.json's format since it describes inputs and outputs (files without it are format 1). */
export const PREPROCESS_FORMAT = 'mtl-preprocess/2';

/**
 * Apply `steps` in order to raw values, then reshape each example to `inputShape`. Since format 2 the
 * file also says what a raw example is (`input`) and what each model output means (`outputs`).
 */
export interface Preprocess {
  format?: string;
  inputShape: number[];
  steps: PreprocessStep[];
  input?: InputDescription;
  outputs?: OutputDescription[];
}

/** Pixels are bytes: scaling by 1/255 maps them onto [0, 1]. */
export const PIXEL_SCALE = 1 / 255;

/**
 * `none`: raw 0–255 floats; `scale01`: × 1/255; `standardize`: × 1/255 then per-feature
 * (x − mean) / std with the statistics of the scaled training pixels.
 */
export function fitPreprocess(
  kind: NormalizeKind,
  train: Split,
  inputShape: number[],
  input?: InputDescription,
): Preprocess {
  // A table's columns are fitted column by column (numeric: stats; one-hot: left as 0/1).
  if (input?.kind === 'table') return fitTablePreprocess(kind, train, input);
  const f = featureCount(inputShape);
  if (train.n > 0 && train.x.length !== train.n * f) {
    const got = train.x.length / train.n;
    throw new InputError(`input shape [${inputShape.join(',')}] has ${f} features, data has ${got}`);
  }
  switch (kind) {
    case 'none':
      return { inputShape: [...inputShape], steps: [] };
    case 'scale01':
      return { inputShape: [...inputShape], steps: [{ op: 'scale', factor: PIXEL_SCALE }] };
    case 'standardize': {
      const { mean, std } = featureStats(train.x, train.n, f, PIXEL_SCALE);
      const steps: PreprocessStep[] = [
        { op: 'scale', factor: PIXEL_SCALE },
        { op: 'standardize', mean, std },
      ];
      return { inputShape: [...inputShape], steps };
    }
  }
}

/**
 * Per-feature mean and population std (ddof 0, as sklearn's StandardScaler) of `x · factor`, in
 * float64, two passes over the data for accuracy. A feature with std 0 (e.g. MNIST's always-black
 * border pixels) gets std 1, sklearn's rule, so it maps to 0 instead of dividing by zero.
 */
export function featureStats(
  x: ArrayLike<number>,
  n: number,
  f: number,
  factor = 1,
): { mean: number[]; std: number[] } {
  if (n === 0) throw new InputError('cannot fit normalization statistics on an empty training split');
  const sum = new Float64Array(f);
  for (let i = 0; i < n; i++) addRow(x, i * f, sum);
  const mu = sum.map((s) => s / n);
  const sq = new Float64Array(f);
  for (let i = 0; i < n; i++) addSquaredDeviations(x, i * f, mu, sq);
  const mean = Array.from(mu, (m) => m * factor);
  const std = Array.from(sq, (s) => (s === 0 ? 1 : Math.sqrt(s / n) * factor));
  return { mean, std };
}

/**
 * Apply the steps to `n` examples in one pass. The steps compose into one per-feature affine map
 * y = a·x + b (computed in float64), so this is one multiply-add per value whatever the steps are.
 */
export function applyPreprocess(p: Preprocess, x: FeatureArray | Float32Array, n: number): Float32Array {
  return applyPreprocessInto(p, x, n, new Float32Array(x.length));
}

/**
 * applyPreprocess writing into `out` (n × features floats), e.g. a tensor's own memory on the wasm
 * backend (train/device-data.ts): the data then makes one pass through fresh memory instead of two,
 * which matters where first touching a page costs more than the arithmetic (bench/RESULTS.md). Each
 * value is rounded to float32 first, as the float32 array of earlier versions did, so the bits match.
 */
export function applyPreprocessInto(
  p: Preprocess,
  x: FeatureArray | Float32Array,
  n: number,
  out: Float32Array,
): Float32Array {
  const f = featureCount(p.inputShape);
  if (x.length !== n * f) {
    throw new InputError(`preprocess expects ${n} x ${f} values ([${p.inputShape.join(',')}] each), got ${x.length}`);
  }
  if (out.length !== x.length) throw new Error(`applyPreprocessInto: output holds ${out.length}, need ${x.length}`);
  const fill = p.steps.find((s) => s.op === 'fillMissing');
  const affine = p.steps.filter((s) => s.op !== 'fillMissing');
  if (fill || affine.length === 0) {
    // Tables with missing values, or nothing to map: convert (exact for bytes; float64 rounds to float32), fill, map.
    out.set(x);
    if (fill) fillMissingInPlace(out, fill.values, n);
    if (affine.length === 0) return out;
    const { a, b } = composeSteps(affine, f);
    for (let i = 0; i < n; i++) affineRowInPlace(out, i * f, a, b);
    return out;
  }
  const { a, b } = composeSteps(affine, f);
  if (x instanceof Uint8Array) {
    const { table, stride } = byteTable(a, b);
    for (let i = 0; i < n; i++) mapBytesRow(x, out, i * f, f, table, stride);
  } else for (let i = 0; i < n; i++) affineFloatRow(x, out, i * f, a, b);
  return out;
}

/**
 * The per-feature map y = a·x + b (float64) that applyPreprocessInto applies to byte features, or null
 * when it would take another path (a fill step, or no step). Native code computing `x·a_j + b_j` in
 * double and rounding it to float32 once gives its bits (train/device-data.ts).
 */
export function byteAffineMap(p: Preprocess): { a: Float64Array; b: Float64Array; shared: boolean } | null {
  const affine = p.steps.filter((s) => s.op !== 'fillMissing');
  if (affine.length === 0 || affine.length !== p.steps.length) return null;
  const { a, b } = composeSteps(affine, featureCount(p.inputShape));
  return { a, b, shared: sharedMap(a, b) };
}

/** Every feature has the same a and b (scale01, none): one map serves them all. */
function sharedMap(a: Float64Array, b: Float64Array): boolean {
  return a.every((v, j) => v === a[0] && b[j] === b[0]);
}

/**
 * A byte has 256 values, so per feature j the map is a table: table[j·stride + v] = fround(v·a_j + b_j),
 * the very float32 the multiply-add gives (a byte is exact in float64). Looking values up instead of
 * computing them took 54,000 MNIST rows from 144–162 to 103–108 ms in a warm trial host. When every feature
 * has the same a and b (scale01) they share one table (stride 0), else 256 entries each.
 */
function byteTable(a: Float64Array, b: Float64Array): { table: Float32Array; stride: number } {
  const stride = sharedMap(a, b) ? 0 : 256;
  const table = new Float32Array(stride ? a.length * 256 : 256);
  for (let j = 0; j < table.length / 256; j++) for (let v = 0; v < 256; v++) table[j * 256 + v] = v * a[j]! + b[j]!;
  return { table, stride };
}

// Per-row helpers rather than one nested loop: V8 optimizes a small hot function after a few
// hundred calls, while a long-running nested loop waits for on-stack replacement (measured ~2x
// slower on the first call, which is the call that matters here).
function addRow(x: ArrayLike<number>, off: number, sum: Float64Array): void {
  for (let j = 0; j < sum.length; j++) sum[j]! += x[off + j]!;
}

function addSquaredDeviations(x: ArrayLike<number>, off: number, mu: Float64Array, sq: Float64Array): void {
  for (let j = 0; j < sq.length; j++) {
    const d = x[off + j]! - mu[j]!;
    sq[j]! += d * d;
  }
}

// Bytes are exact in float32, so the table of byteTable holds the float32-array version's bits.
function mapBytesRow(
  x: Uint8Array,
  out: Float32Array,
  off: number,
  f: number,
  table: Float32Array,
  stride: number,
): void {
  if (stride === 0) for (let j = 0; j < f; j++) out[off + j] = table[x[off + j]!]!;
  else for (let j = 0; j < f; j++) out[off + j] = table[j * stride + x[off + j]!]!;
}

function affineFloatRow(
  x: Float64Array | Float32Array,
  out: Float32Array,
  off: number,
  a: Float64Array,
  b: Float64Array,
): void {
  for (let j = 0; j < a.length; j++) out[off + j] = Math.fround(x[off + j]!) * a[j]! + b[j]!;
}

function affineRowInPlace(out: Float32Array, off: number, a: Float64Array, b: Float64Array): void {
  for (let j = 0; j < a.length; j++) out[off + j] = out[off + j]! * a[j]! + b[j]!;
}

function fillMissingInPlace(out: Float32Array, values: number[], n: number): void {
  const f = values.length;
  for (let i = 0; i < n * f; i++) if (Number.isNaN(out[i]!)) out[i] = values[i % f]!;
}

type AffineStep = Exclude<PreprocessStep, { op: 'fillMissing' }>;

function composeSteps(steps: AffineStep[], f: number): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(f).fill(1);
  const b = new Float64Array(f);
  for (const step of steps) {
    if (step.op === 'scale') {
      for (let j = 0; j < f; j++) {
        a[j]! *= step.factor;
        b[j]! *= step.factor;
      }
    } else {
      if (step.mean.length !== f || step.std.length !== f) {
        const got = `${step.mean.length} means / ${step.std.length} stds`;
        throw new InputError(`standardize step has ${got} for ${f} features`);
      }
      for (let j = 0; j < f; j++) {
        a[j] = a[j]! / step.std[j]!;
        b[j] = (b[j]! - step.mean[j]!) / step.std[j]!;
      }
    }
  }
  return { a, b };
}
