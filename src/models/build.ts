// Model builders from config: `mlp` and `cnn`, with stable layer names. Layers of the task head start
// with `head` (multi-task: `head_<task>`); everything else is the backbone.
import type { Activation, CnnConfig, MlpConfig, ModelConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';
import type { Rng } from '../random/rng.ts';
import { initializeWeights } from './init.ts';

export interface BuiltModel {
  /** Outputs class probabilities: the model that is saved and evaluated. */
  model: tf.LayersModel;
  /** Same layers and weights, outputs the head's logits: what training differentiates. */
  logits: tf.LayersModel;
  /** Input shape of one example, e.g. [784] or [28, 28, 1]. */
  inputShape: number[];
}

export interface BuildOptions {
  /** Shape of one example as the dataset provides it (always [28, 28, 1] for the image sets). */
  imageShape: number[];
  numClasses: number;
  rng: Rng;
}

/** The input shape a model type consumes: flat features for an MLP, the image for a CNN. */
export function modelInputShape(config: ModelConfig, imageShape: number[]): number[] {
  return config.type === 'mlp' ? [imageShape.reduce((a, b) => a * b, 1)] : [...imageShape];
}

export function buildModel(config: ModelConfig, options: BuildOptions): BuiltModel {
  const inputShape = modelInputShape(config, options.imageShape);
  const input = tf.input({ shape: inputShape, name: 'input' });
  const features = config.type === 'mlp' ? mlpBackbone(input, config) : cnnBackbone(input, config);
  const logitsOut = tf.layers.dense({ units: options.numClasses, name: 'head' }).apply(features) as tf.SymbolicTensor;
  const probs = tf.layers
    .activation({ activation: 'softmax', name: 'head_softmax' })
    .apply(logitsOut) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: probs, name: 'mtl_model' });
  initializeWeights(model.layers, options.rng);
  const logits = tf.model({ inputs: input, outputs: logitsOut, name: 'mtl_logits' });
  return { model, logits, inputShape };
}

function mlpBackbone(input: tf.SymbolicTensor, config: MlpConfig): tf.SymbolicTensor {
  let x = input;
  config.hidden.forEach((units, i) => {
    x = dense(x, units, config.activation, `dense_${i + 1}`);
    if (config.dropout > 0) x = apply(tf.layers.dropout({ rate: config.dropout, name: `dropout_${i + 1}` }), x);
  });
  return x;
}

function cnnBackbone(input: tf.SymbolicTensor, config: CnnConfig): tf.SymbolicTensor {
  let x = input;
  config.conv.forEach((block, i) => {
    const n = i + 1;
    x = apply(
      tf.layers.conv2d({
        filters: block.filters,
        kernelSize: block.kernel,
        strides: block.stride,
        padding: block.padding,
        // With BatchNorm the conv bias is redundant (BN's β replaces it), as in the usual conv-BN-act block.
        useBias: !block.batchNorm,
        activation: block.batchNorm ? 'linear' : toTfActivation(block.activation),
        name: `conv_${n}`,
      }),
      x,
    );
    if (block.batchNorm) {
      // Keras's defaults (momentum 0.99, ε 1e-3).
      x = apply(tf.layers.batchNormalization({ name: `bn_${n}` }), x);
      x = apply(tf.layers.activation({ activation: toTfActivation(block.activation), name: `act_${n}` }), x);
    }
    if (block.pool > 0) x = apply(tf.layers.maxPooling2d({ poolSize: block.pool, name: `pool_${n}` }), x);
  });
  x = apply(tf.layers.flatten({ name: 'flatten' }), x);
  config.dense.forEach((units, i) => {
    x = dense(x, units, config.activation, `dense_${i + 1}`);
    if (config.dropout > 0) x = apply(tf.layers.dropout({ rate: config.dropout, name: `dropout_${i + 1}` }), x);
  });
  return x;
}

function dense(x: tf.SymbolicTensor, units: number, activation: Activation, name: string): tf.SymbolicTensor {
  return apply(tf.layers.dense({ units, activation: toTfActivation(activation), name }), x);
}

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

type TfActivation = 'relu' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'linear' | 'gelu' | 'swish';
function toTfActivation(a: Activation): TfActivation {
  return a;
}

/** Layers whose name marks them as part of a task head. */
export function isHeadLayer(name: string): boolean {
  return name === 'head' || name.startsWith('head_');
}
