// Seeded weight initialization: tfjs initializers draw from an unseeded source, so after building a
// model the runner overwrites every weight from its own PRNG (Keras's defaults, reproduced exactly).

import { tf } from '../engine/backend/tf.ts';
import type { Rng } from '../random/rng.ts';

/**
 * Re-initialise all weights of `layers` from `rng`, in layer order, so the same seed gives the same
 * model on every backend: kernels Glorot-uniform (Keras's default, limit √(6/(fan_in+fan_out))),
 * biases and BatchNorm β / moving mean 0, BatchNorm γ / moving variance 1.
 */
export function initializeWeights(layers: readonly tf.layers.Layer[], rng: Rng): void {
  for (const layer of layers) {
    for (const w of layer.weights) {
      const values = initialValues(w.originalName ?? w.name, w.shape as number[], rng);
      if (!values) continue;
      // write() copies into the variable; the temporary would otherwise stay allocated.
      const t = tf.tensor(values, w.shape as number[], 'float32');
      w.write(t);
      t.dispose();
    }
  }
}

function initialValues(name: string, shape: number[], rng: Rng): Float32Array | null {
  const size = shape.reduce((a, b) => a * b, 1);
  const leaf = name.split('/').pop() ?? name;
  if (leaf.startsWith('kernel')) return glorotUniform(shape, rng);
  if (leaf.startsWith('gamma') || leaf.startsWith('moving_variance')) return new Float32Array(size).fill(1);
  if (leaf.startsWith('bias') || leaf.startsWith('beta') || leaf.startsWith('moving_mean'))
    return new Float32Array(size);
  return null; // custom weights (e.g. multi-task mixing units) own their initializer
}

/** Glorot/Xavier uniform over a dense [in, out] or conv [kh, kw, in, out] kernel. */
export function glorotUniform(shape: number[], rng: Rng): Float32Array {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = (shape[shape.length - 2] ?? 1) * receptive;
  const fanOut = (shape[shape.length - 1] ?? 1) * receptive;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * limit;
  return out;
}
