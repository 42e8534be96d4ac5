// Layer stages shared by every model: a model type is a list of stages (a conv block, a dense
// layer), which a single-task model stacks once and a multi-task architecture stacks once (hard
// sharing), once per task (cross-stitch columns) or once per expert (MMoE), with a name prefix.
import type { Activation, ConvBlockConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';

/** One stage: creates its layers (named with `prefix`) when called on a symbolic tensor. */
export type Stage = (x: tf.SymbolicTensor, prefix: string) => tf.SymbolicTensor;

/** Dense layer `dense_N`, then `dropout_N` when dropout > 0. */
export function denseStage(units: number, activation: Activation, dropout: number, n: number): Stage {
  return (x, p) => {
    const h = apply(tf.layers.dense({ units, activation, name: `${p}dense_${n}` }), x);
    return dropout > 0 ? apply(tf.layers.dropout({ rate: dropout, name: `${p}dropout_${n}` }), h) : h;
  };
}

/** Conv block N: `conv_N` → [`bn_N` → `act_N`] → [`pool_N`], then `flatten` when it is the last block. */
export function convStage(block: ConvBlockConfig, n: number, last: boolean): Stage {
  return (x, p) => {
    let h = apply(
      tf.layers.conv2d({
        filters: block.filters,
        kernelSize: block.kernel,
        strides: block.stride,
        padding: block.padding,
        // With BatchNorm the conv bias is redundant (BN's β replaces it), as in the usual conv-BN-act block.
        useBias: !block.batchNorm,
        activation: block.batchNorm ? 'linear' : block.activation,
        name: `${p}conv_${n}`,
      }),
      x,
    );
    if (block.batchNorm) {
      // Keras's defaults (momentum 0.99, ε 1e-3).
      h = apply(tf.layers.batchNormalization({ name: `${p}bn_${n}` }), h);
      h = apply(tf.layers.activation({ activation: block.activation, name: `${p}act_${n}` }), h);
    }
    if (block.pool > 0) h = apply(tf.layers.maxPooling2d({ poolSize: block.pool, name: `${p}pool_${n}` }), h);
    // The last conv stage flattens, so what follows (and any mixing unit) sees a vector.
    return last ? apply(tf.layers.flatten({ name: `${p}flatten` }), h) : h;
  };
}

export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/** Stack all stages on `x` (an MLP with no hidden layers leaves the input as the representation). */
export function applyStages(stages: Stage[], x: tf.SymbolicTensor, prefix: string): tf.SymbolicTensor {
  return stages.reduce((h, stage) => stage(h, prefix), x);
}
