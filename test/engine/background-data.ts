// Data for the fused dense step's background tests (fused-dense-background.test.ts and its child
// process): standardized-like features, and the sparse pixels they are made from.

import { tf } from '../../src/engine/backend/tf.ts';
import { Rng } from '../../src/random/rng.ts';

export const CLASSES = 5;
export const ROWS = 150;

export interface Data {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
  n: number;
  features: number;
}

/** Sparse non-negative "pixels" (~70% exact zeros) with a class signal, 18 features. */
function pixels(rng: Rng, n: number): { xs: Float64Array; ys: Int32Array } {
  const f = 18;
  const xs = new Float64Array(n * f);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = i % CLASSES;
    for (let j = 0; j < f; j++) {
      const v = rng.normal() + (j % CLASSES === ys[i] ? 1.5 : 0);
      xs[i * f + j] = v > 0.8 ? v : 0;
    }
  }
  return { xs, ys };
}

/**
 * Standardized-like features, 24 per row: 18 standardized pixels ((x − mean) / std: the background
 * is −mean/std, never 0), 3 continuous normals (no value repeats: background 0, always "nonzero"),
 * 1 constant 0 (std 0 maps to 0, as sklearn's rule), and 2 raw features that are 1.0 in ~70% of the
 * rows (background 1).
 */
export function standardized(seed: number, n = ROWS): Data {
  const rng = new Rng(seed);
  const { xs: px, ys } = pixels(rng, n);
  const f = 24;
  const xs = new Float32Array(n * f);
  for (let j = 0; j < 18; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += px[i * 18 + j]! / n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (px[i * 18 + j]! - mean) ** 2 / n;
    const std = Math.sqrt(variance) || 1;
    for (let i = 0; i < n; i++) xs[i * f + j] = (px[i * 18 + j]! - mean) / std;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 18; j < 21; j++) xs[i * f + j] = rng.normal() + (ys[i]! === j - 18 ? 1 : 0);
    xs[i * f + 21] = 0;
    for (let j = 22; j < 24; j++) xs[i * f + j] = rng.next() < 0.7 ? 1 : rng.normal() + ys[i]! * 0.3;
  }
  return { x: tf.tensor2d(xs, [n, f]), y: tf.tensor1d(ys, 'int32'), n, features: f };
}

/** The pixels alone, unstandardized: their background is 0 everywhere (the plain sparse path). */
export function sparsePixels(seed: number): Data {
  const { xs, ys } = pixels(new Rng(seed), ROWS);
  return { x: tf.tensor2d(Float32Array.from(xs), [ROWS, 18]), y: tf.tensor1d(ys, 'int32'), n: ROWS, features: 18 };
}
