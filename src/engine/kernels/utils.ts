// Shared pieces of mtl's wasm kernels: the backend's shape as the kernels see it, output allocation
// and views of tensor memory.
import type { tf } from '../backend/tf.ts';
import type { NativeRuntime } from '../native/runtime.ts';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = NonNullable<tf.KernelConfig['kernelFunc']>;
export type KernelArgs = Parameters<KernelFunc>[0];

/** What the kernels use of tfjs-backend-wasm's BackendWasm. */
export interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(ptr: number): void };
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** The byte address of `t` in the backend's heap: where typedArrayFromHeap's view starts, without
 *  making the view (a typed array per operand per step is a measurable part of a small step). */
export function heapAddress(wasm: WasmBackendLike, t: TensorInfo): number {
  return wasm.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** rt.input of a float32 tensor: its own address when the kernels run on the backend's heap, else a
 *  staged copy. */
export function operand(rt: NativeRuntime, wasm: WasmBackendLike, t: TensorInfo): number {
  return rt.zeroCopy ? heapAddress(wasm, t) : rt.input(wasm.typedArrayFromHeap(t) as Float32Array);
}

/** A float32 output tensor and a view of its memory. Allocate outputs BEFORE taking input views:
 *  allocation may grow the wasm heap, which detaches every earlier view. */
export function output(backend: unknown, shape: number[]): { info: TensorInfo; data: Float32Array } {
  const wasm = backend as WasmBackendLike;
  const info = wasm.makeOutput(shape, 'float32');
  return { info, data: wasm.typedArrayFromHeap(info) as Float32Array };
}

export function heap(backend: unknown, t: TensorInfo): Float32Array {
  return (backend as WasmBackendLike).typedArrayFromHeap(t) as Float32Array;
}

export const allFloat = (...ts: Array<TensorInfo | undefined>): boolean => ts.every((t) => !t || t.dtype === 'float32');
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
