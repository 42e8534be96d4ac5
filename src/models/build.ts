// Single-task models from config: the model type's backbone (models/registry.ts), then the head
// `head` (logits) and `head_softmax`. Layer names are stable (models/names.ts).
import type { ModelConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';
import type { Rng } from '../random/rng.ts';
import { initializeWeights } from './init.ts';
import { apply, applyStages } from './layers.ts';
import { modelInputShape, modelStages } from './registry.ts';

export interface BuiltModel {
  /** Outputs class probabilities: the model that is trained, saved and evaluated. */
  model: tf.LayersModel;
  /** Input shape of one example, e.g. [784] or [28, 28, 1]. */
  inputShape: number[];
}

export interface BuildOptions {
  /** Shape of one example as the dataset provides it ([28, 28, 1] for MNIST, [features] for a table). */
  imageShape: number[];
  numClasses: number;
  rng: Rng;
}

export function buildModel(config: ModelConfig, options: BuildOptions): BuiltModel {
  const inputShape = modelInputShape(config, options.imageShape);
  const input = tf.input({ shape: inputShape, name: 'input' });
  const features = applyStages(modelStages(config), input, '');
  const logits = apply(tf.layers.dense({ units: options.numClasses, name: 'head' }), features);
  const probs = apply(tf.layers.activation({ activation: 'softmax', name: 'head_softmax' }), logits);
  const model = tf.model({ inputs: input, outputs: probs, name: 'mtl_model' });
  initializeWeights(model.layers, options.rng);
  return { model, inputShape };
}
