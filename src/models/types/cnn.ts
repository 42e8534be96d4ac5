// `model.type: cnn`: image inputs, conv blocks (conv → [BatchNorm → activation] → [max-pool]), then
// dense layers after flattening (Keras's mnist_convnet by default; MultiLeNet for multi-task).
import type { CnnConfig, ConvBlockConfig } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import { convStage, denseStage } from '../layers.ts';
import type { ModelTypeDef } from './types.ts';

export const cnn: ModelTypeDef<CnnConfig> = {
  inputShape: (_config, imageShape) => {
    if (imageShape.length !== 3) {
      const why = `a cnn needs images [height, width, channels]; this dataset's examples are [${imageShape}] (a table?): use model.type mlp`;
      throw new ConfigError([{ path: 'model.type', message: why }]);
    }
    return [...imageShape];
  },
  stages: (config) => [
    ...config.conv.map((block, i) => convStage(block, i + 1, i === config.conv.length - 1)),
    ...config.dense.map((units, i) => denseStage(units, config.activation, config.dropout, i + 1)),
  ],
};

/**
 * MultiLeNet, the shared part of Sener & Koltun's MultiMNIST network: conv 1→10 (5×5) → pool →
 * conv 10→20 (5×5) → pool → fc 320→50. As a `model:` config, for configs and tests to reuse.
 */
export const MULTILENET: CnnConfig = {
  type: 'cnn',
  conv: [convBlock(10, 5), convBlock(20, 5)],
  dense: [50],
  activation: 'relu',
  dropout: 0,
};

/** A conv block with the schema's defaults (stride 1, valid padding, relu, 2×2 max-pool). */
export function convBlock(filters: number, kernel: number, batchNorm = false): ConvBlockConfig {
  return { filters, kernel, stride: 1, padding: 'valid', activation: 'relu', batchNorm, pool: 2 };
}
