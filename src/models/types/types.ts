// What a model type provides: the input shape it consumes and its backbone as a list of stages.
import type { Stage } from '../layers.ts';

export interface ModelTypeDef<C> {
  /** Shape of one example as the model consumes it, from the dataset's shape ([28, 28, 1], or [features] for a table). */
  inputShape(config: C, imageShape: readonly number[]): number[];
  /** The backbone, bottom to top; the single-task head and multi-task heads go on top of it. */
  stages(config: C): Stage[];
}
