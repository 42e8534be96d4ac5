// Broadcast-style kernels that tfjs-backend-wasm 4.22 runs element by element with full index
// arithmetic: `Tile` (BatchNormalization's gradient tiles its [C] statistics to the activation's shape:
// 355 ms for one [1,1,1,32] → [128,26,26,32] tile, ~45% of a BatchNorm CNN step) and `Mean` over the
// leading axes (BatchNormalization's batch moments: stock wasm transposes first). Both produce exactly
// the values tfjs's cpu kernels do (Tile copies; Mean is a column sum divided by the count); the
// leading-axes `Sum` (bias gradients) shares that column sum.

import { tf } from '../backend/tf.ts';
import { columnSum } from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { allFloat, heap, type KernelArgs, output, size, type TensorInfo, type WasmBackendLike } from './utils.ts';

type Typed = Float32Array | Int32Array | Uint8Array;

/**
 * `x` repeated `reps[d]` times along each axis d, written into `out` (length Π shape[d]·reps[d]).
 * Axes are expanded from the last to the first: each pass copies a whole contiguous block, then doubles
 * it with copyWithin, so the work is a few memory copies of the output whatever the shapes.
 */
function tileInto(x: Typed, shape: readonly number[], reps: readonly number[], out: Typed): void {
  let cur: Typed = x;
  const curShape = [...shape];
  for (let d = shape.length - 1; d >= 0; d--) {
    const r = reps[d]!;
    if (r === 1) continue;
    const outer = size(curShape.slice(0, d));
    const inner = size(curShape.slice(d));
    const block = inner * r;
    const next = d === firstRepeatedAxis(reps) ? out : new (cur.constructor as new (n: number) => Typed)(outer * block);
    for (let o = 0; o < outer; o++) {
      const base = o * block;
      if (inner === 1) {
        next.fill(cur[o]!, base, base + block);
        continue;
      }
      next.set(cur.subarray(o * inner, (o + 1) * inner), base);
      for (let filled = inner; filled < block; ) {
        const n = Math.min(filled, block - filled);
        next.copyWithin(base + filled, base, base + n);
        filled += n;
      }
    }
    cur = next;
    curShape[d] = curShape[d]! * r;
  }
  if (cur !== out) out.set(cur);
}

/** The outermost axis with a repeat: its pass is the last one, so it writes the output directly. */
function firstRepeatedAxis(reps: readonly number[]): number {
  return reps.findIndex((r) => r !== 1);
}

export function tileKernel({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const { reps } = attrs as unknown as { reps: number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length) return null;
  const wasm = backend as WasmBackendLike;
  // Output first: allocating may grow the heap, which detaches earlier views.
  const info = wasm.makeOutput(
    x.shape.map((s, i) => s * reps[i]!),
    x.dtype,
  );
  tileInto(wasm.typedArrayFromHeap(x), x.shape, reps, wasm.typedArrayFromHeap(info));
  return info;
}

/** Sum over every axis but the last (bias gradients); stock wasm transposes first, which is slow. */
export function leadingAxesSum(rt: NativeRuntime, args: KernelArgs): TensorInfo | null {
  return leadingAxesReduce(rt, args, false);
}

/** Mean over every axis but the last (BatchNormalization's moments), as a column sum / count. */
export function leadingAxesMean(rt: NativeRuntime, args: KernelArgs): TensorInfo | null {
  return leadingAxesReduce(rt, args, true);
}

function leadingAxesReduce(
  rt: NativeRuntime,
  { inputs, backend, attrs }: KernelArgs,
  mean: boolean,
): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  if (!allFloat(x) || rank < 2) return null;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  if (axes.length !== rank - 1 || axes.some((ax, i) => ax !== i)) return null;
  const cols = x.shape[rank - 1]!;
  const rows = size(x.shape) / cols;
  const out = output(backend, keepDims ? [...Array(rank - 1).fill(1), cols] : [cols]);
  columnSum(rt, heap(backend, x), rows, cols, out.data);
  if (mean) {
    // A fresh view: the column sum's scratch allocation may have grown (and detached) the heap.
    const sums = heap(backend, out.info);
    for (let j = 0; j < cols; j++) sums[j] = sums[j]! / rows;
  }
  return out.info;
}
