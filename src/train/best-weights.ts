// The best-so-far weights kept in memory by every program, so the test split is scored with the
// weights of the best epoch (chosen on validation) without reading the checkpoint back.
import { tf } from '../engine/backend/tf.ts';

export interface BestWeights {
  /** Keep a copy of the model's current weights (the previous copy is freed). */
  capture(): void;
  /** Put the copy back into the model and free it; nothing happens when none was captured. */
  restore(): void;
  dispose(): void;
}

export function bestWeightsOf(model: tf.LayersModel): BestWeights {
  let best: tf.Tensor[] | null = null;
  const dispose = (): void => {
    if (best) tf.dispose(best);
    best = null;
  };
  return {
    capture: () => {
      dispose();
      best = model.weights.map((w) => tf.keep(w.read().clone()));
    },
    restore: () => {
      if (!best) return;
      model.setWeights(best);
      dispose();
    },
    dispose,
  };
}
