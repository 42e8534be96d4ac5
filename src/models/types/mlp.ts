// `model.type: mlp`: flat inputs, dense hidden layers (the seed's 784-128-10).
import type { MlpConfig } from '../../config/types.ts';
import { denseStage } from '../layers.ts';
import type { ModelTypeDef } from './types.ts';

export const mlp: ModelTypeDef<MlpConfig> = {
  inputShape: (_config, imageShape) => [imageShape.reduce((a, b) => a * b, 1)],
  stages: (config) => config.hidden.map((units, i) => denseStage(units, config.activation, config.dropout, i + 1)),
};
