// Optimizers from config (adam, sgd with momentum, rmsprop) and a uniform way to change their LR.
import type { OptimizerConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';

export function createOptimizer(config: OptimizerConfig, lr = config.lr): tf.Optimizer {
  switch (config.name) {
    case 'adam':
      return tf.train.adam(lr, config.beta1, config.beta2, config.epsilon);
    case 'sgd':
      return config.momentum > 0 ? tf.train.momentum(lr, config.momentum) : tf.train.sgd(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr, config.rho, config.momentum, config.epsilon);
  }
}

/**
 * Set an optimizer's learning rate for the next step. SGD caches −lr as a tensor (and has a setter
 * that rebuilds it); Adam and RMSprop read the field on every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
