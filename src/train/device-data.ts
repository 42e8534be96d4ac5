// Moves preprocessed splits onto the backend once per run, so steps gather batches on the device.
// On wasm a split not yet preprocessed on the host is preprocessed straight into its tensor's memory:
// the data passes through fresh memory once instead of twice (a host array, then the copy).
import { applyPreprocessInto, byteAffineMap } from '../data/normalize.ts';
import type { PreparedSplit } from '../data/prepare.ts';
import { tf } from '../engine/backend/tf.ts';
import { countKernelCall } from '../engine/kernels/calls.ts';
import { onHeapRuntime } from '../engine/kernels/register.ts';
import { heapAddress, size, type WasmBackendLike } from '../engine/kernels/utils.ts';
import { bytesAffine } from '../engine/native/ops.ts';
import type { DeviceSplit } from './single/classifier.ts';

export interface HostSplit {
  x: Float32Array;
  y: ArrayLike<number>;
  n: number;
  unprocessed?: PreparedSplit['unprocessed'];
}

/** What device-data.test.ts reads to tell the direct path ran, and that it ran natively (bytes). */
export const DIRECT_UPLOAD = 'toDevice:direct';
export const NATIVE_UPLOAD = 'toDevice:native';

export function toDevice(split: HostSplit, inputShape: number[]): DeviceSplit {
  return { x: featuresToDevice(split, inputShape), y: tf.tensor1d(Int32Array.from(split.y), 'int32'), n: split.n };
}

/** A split's features as one [n, ...inputShape] float32 tensor. */
export function featuresToDevice(split: Omit<HostSplit, 'y'>, inputShape: number[]): tf.Tensor {
  const shape = [split.n, ...inputShape];
  return (split.unprocessed && direct(split.unprocessed, split.n, shape)) || tf.tensor(split.x, shape, 'float32');
}

function direct(u: NonNullable<HostSplit['unprocessed']>, n: number, shape: number[]): tf.Tensor | null {
  if (tf.getBackend() !== 'wasm' || n === 0) return null;
  const backend = tf.backend() as unknown as WasmBackendLike;
  const info = backend.makeOutput(shape, 'float32');
  const cols = size(shape.slice(1));
  // Bytes (pixels) through mtl's kernel: ~5x the JavaScript table lookups, the same bits.
  const map = u.x instanceof Uint8Array && u.x.length === n * cols ? byteAffineMap(u.preprocess) : null;
  if (map && map.a.length === cols) {
    const rt = onHeapRuntime(backend); // made at first use, which may grow the heap: before any view of it
    bytesAffine(rt, u.x as Uint8Array, n, cols, map, heapAddress(backend, info));
    countKernelCall(NATIVE_UPLOAD);
  } else applyPreprocessInto(u.preprocess, u.x, n, backend.typedArrayFromHeap(info) as Float32Array);
  countKernelCall(DIRECT_UPLOAD);
  return tf.engine().makeTensorFromTensorInfo(info);
}

export function disposeSplit(split: DeviceSplit | null): void {
  if (split) tf.dispose([split.x, split.y]);
}
