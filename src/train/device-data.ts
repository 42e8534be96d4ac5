// Moves preprocessed splits onto the backend once per run, so steps gather batches on the device.
import { tf } from '../engine/backend/tf.ts';
import type { DeviceSplit } from './single/classifier.ts';

export interface HostSplit {
  x: Float32Array;
  y: ArrayLike<number>;
  n: number;
}

export function toDevice(split: HostSplit, inputShape: number[]): DeviceSplit {
  return {
    x: tf.tensor(split.x, [split.n, ...inputShape], 'float32'),
    y: tf.tensor1d(Int32Array.from(split.y), 'int32'),
    n: split.n,
  };
}

export function disposeSplit(split: DeviceSplit | null): void {
  if (split) tf.dispose([split.x, split.y]);
}
