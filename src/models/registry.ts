// The model types of `model.type`, one file each in ./types/. The mapped type below makes the
// registry exhaustive: a name added to MODEL_TYPES (config/names.ts) without its entry does not compile.
import type { ModelType } from '../config/names.ts';
import type { ModelConfig } from '../config/types.ts';
import type { Stage } from './layers.ts';
import { cnn } from './types/cnn.ts';
import { mlp } from './types/mlp.ts';
import type { ModelTypeDef } from './types/types.ts';

const MODELS: { [K in ModelType]: ModelTypeDef<Extract<ModelConfig, { type: K }>> } = { mlp, cnn };

function definition(config: ModelConfig): ModelTypeDef<ModelConfig> {
  return MODELS[config.type] as ModelTypeDef<ModelConfig>;
}

/** The input shape a model type consumes: flat features for an MLP, the image for a CNN. */
export function modelInputShape(config: ModelConfig, imageShape: readonly number[]): number[] {
  return definition(config).inputShape(config, imageShape);
}

/** The model's backbone as stages (see layers.ts). */
export function modelStages(config: ModelConfig): Stage[] {
  return definition(config).stages(config);
}
