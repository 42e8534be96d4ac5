// The λR(θ) term of the seed's objective: L1/L2 penalties on kernel weights (biases and BatchNorm
// parameters are not penalised, as in Keras's kernel_regularizer).
import type { RegularizationConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';

export function isKernel(variable: tf.LayerVariable | tf.Variable): boolean {
  const name = (variable as tf.LayerVariable).originalName ?? variable.name;
  return /(^|\/)kernel(_\d+)?$/.test(name);
}

/** λ1·Σ|w| + λ2·Σw² over the given kernels, or null when both λ are 0. */
export function regularizationPenalty(kernels: tf.Tensor[], config: RegularizationConfig): tf.Scalar | null {
  if ((config.l1 === 0 && config.l2 === 0) || kernels.length === 0) return null;
  let total: tf.Scalar = tf.scalar(0);
  for (const k of kernels) {
    if (config.l1 > 0) total = total.add(k.abs().sum().mul(config.l1));
    if (config.l2 > 0) total = total.add(k.square().sum().mul(config.l2));
  }
  return total;
}
