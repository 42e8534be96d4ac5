// The shared trunk of a multi-task model as a list of stages (a conv block, a dense layer), so an
// architecture can stack them once (hard sharing), once per task (cross-stitch columns, with mixing
// between stages) or once per expert (MMoE). Mirrors build.ts's backbones, with a name prefix.
import type { Activation, CnnConfig, MlpConfig, ModelConfig } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';

/** One stage: creates its layers (named with `prefix`) when called on a symbolic tensor. */
export type Stage = (x: tf.SymbolicTensor, prefix: string) => tf.SymbolicTensor;

/**
 * MultiLeNet, the shared part of Sener & Koltun's MultiMNIST network: conv 1→10 (5×5) → pool →
 * conv 10→20 (5×5) → pool → fc 320→50. As a `model:` config, for configs and tests to reuse.
 */
export const MULTILENET: CnnConfig = {
  type: 'cnn',
  conv: [
    { filters: 10, kernel: 5, stride: 1, padding: 'valid', activation: 'relu', batchNorm: false, pool: 2 },
    { filters: 20, kernel: 5, stride: 1, padding: 'valid', activation: 'relu', batchNorm: false, pool: 2 },
  ],
  dense: [50],
  activation: 'relu',
  dropout: 0,
};

export function trunkStages(config: ModelConfig): Stage[] {
  return config.type === 'mlp' ? mlpStages(config) : cnnStages(config);
}

function mlpStages(config: MlpConfig): Stage[] {
  return config.hidden.map((units, i) => (x, p) => denseBlock(x, units, config.activation, config.dropout, p, i + 1));
}

function cnnStages(config: CnnConfig): Stage[] {
  const convs: Stage[] = config.conv.map((block, i) => (x, p) => {
    const n = i + 1;
    let h = apply(
      tf.layers.conv2d({
        filters: block.filters,
        kernelSize: block.kernel,
        strides: block.stride,
        padding: block.padding,
        useBias: !block.batchNorm,
        activation: block.batchNorm ? 'linear' : block.activation,
        name: `${p}conv_${n}`,
      }),
      x,
    );
    if (block.batchNorm) {
      h = apply(tf.layers.batchNormalization({ name: `${p}bn_${n}` }), h);
      h = apply(tf.layers.activation({ activation: block.activation, name: `${p}act_${n}` }), h);
    }
    if (block.pool > 0) h = apply(tf.layers.maxPooling2d({ poolSize: block.pool, name: `${p}pool_${n}` }), h);
    // The last conv stage flattens, so what follows (and any mixing unit) sees a vector.
    return i === config.conv.length - 1 ? apply(tf.layers.flatten({ name: `${p}flatten` }), h) : h;
  });
  const dense: Stage[] = config.dense.map(
    (units, i) => (x, p) => denseBlock(x, units, config.activation, config.dropout, p, i + 1),
  );
  return [...convs, ...dense];
}

function denseBlock(
  x: tf.SymbolicTensor,
  units: number,
  activation: Activation,
  dropout: number,
  p: string,
  n: number,
): tf.SymbolicTensor {
  let h = apply(tf.layers.dense({ units, activation, name: `${p}dense_${n}` }), x);
  if (dropout > 0) h = apply(tf.layers.dropout({ rate: dropout, name: `${p}dropout_${n}` }), h);
  return h;
}

export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/** Stack all stages on `x` (an MLP with no hidden layers leaves the input as the representation). */
export function applyStages(stages: Stage[], x: tf.SymbolicTensor, prefix: string): tf.SymbolicTensor {
  return stages.reduce((h, stage) => stage(h, prefix), x);
}
