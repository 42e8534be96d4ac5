// Kernels the WASM backend (tfjs-backend-wasm 4.22) lacks or runs slowly, replaced by mtl's own
// (native/ops.ts on native/kernels*.wasm; convolutions in conv.ts, Tile and leading-axes reductions in
// shape.ts): matmul with transposes, convolution gradients, max-pool gradient, leading-axes sums, row
// gathers and slices, per-channel add/multiply/subtract, batch normalisation with given moments, and a
// copy-free Identity; fused-conv.ts rewrites linear fused convolutions while training. Results stay
// within float tolerance of tfjs's cpu kernels (test/engine), the elementwise ones bit for bit the stock
// kernels; anything a kernel does not handle falls back to the stock wasm kernel, and
// kernelCalls (calls.ts) counts the calls mtl's code handled, so tests can tell the two apart.
// Where this sits among the backends and how to add a kernel: docs/design.md, "Kernels".

import { tf } from '../backend/tf.ts';
import { registerFusedAdam } from '../fused/adam.ts';
import { registerFusedCnn } from '../fused/cnn.ts';
import { registerFusedDense } from '../fused/dense.ts';
import { biasAct, matMul, reluGrad, squareGrad } from '../native/ops.ts';
import { NativeRuntime } from '../native/runtime.ts';
import { fusedBatchNorm, registerBatchNormKernels } from './batch-norm.ts';
import { countKernelCall } from './calls.ts';
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward, maxPoolGradKernel, maxPoolKernel } from './conv.ts';
import { unfuseLinearConv2dInTraining } from './fused-conv.ts';
import { leadingAxesMean, leadingAxesSum, tileKernel } from './shape.ts';
import {
  allFloat,
  heap,
  type KernelArgs,
  type KernelFunc,
  output,
  size,
  type TensorInfo,
  type WasmBackendLike,
} from './utils.ts';

let installed = false;

let onHeap: NativeRuntime | null = null;

/** One thread on the wasm backend's heap (no copies), also where worker threads exist: small fused dense
 *  steps, the memory-bound elementwise and reduction kernels, which the threaded runtime would have to
 *  copy in and out of its memory (11 MB each way for a CNN's first activation) to gain little or, for
 *  the one-chunk kernels, nothing (the BatchNorm CNN with 2 threads: 5.9–6.2 s per epoch with them on
 *  the threads, 4.8 on one), and data written straight into a tensor (train/device-data.ts). */
export function onHeapRuntime(backend: unknown): NativeRuntime {
  const { wasm } = backend as WasmBackendLike;
  onHeap ??= NativeRuntime.onHost(
    wasm.asm.memory,
    (n) => wasm._malloc(n),
    (p) => wasm._free(p),
  );
  return onHeap;
}

/**
 * Install the project's WASM kernels. Must run before `tf.setBackend('wasm')`, because the engine
 * calls each kernel's setupFunc when the backend initializes. With a multi-threaded runtime the
 * kernels run on it (operands copied to its shared memory); without one, a single-thread runtime is
 * made on the backend's own heap at first use, and operands are used in place.
 */
export function installWasmKernels(threaded: NativeRuntime | null): void {
  if (installed) return;
  installed = true;
  const runtime = (backend: unknown): NativeRuntime => threaded ?? onHeapRuntime(backend);
  registerReductionGradients();
  unfuseLinearConv2dInTraining();
  override('BatchMatMul', (args) => batchMatMul(runtime(args.backend), args, null));
  override('_FusedMatMul', (args) => fusedMatMul(runtime(args.backend), args));
  override('Conv2D', (args) => conv2dForward(runtime(args.backend), 'Conv2D', args));
  override('FusedConv2D', (args) => conv2dForward(runtime(args.backend), 'FusedConv2D', args));
  override('Conv2DBackpropInput', (args) => conv2dBackpropInput(runtime(args.backend), args));
  override('MaxPool', (args) => maxPoolKernel(runtime(args.backend), args));
  override('MaxPoolGrad', (args) => maxPoolGradKernel(runtime(args.backend), args));
  override('Add', (args) => addBias(onHeapRuntime(args.backend), args));
  override('Multiply', (args) => mulChannels(onHeapRuntime(args.backend), args));
  override('Sub', (args) => subChannels(onHeapRuntime(args.backend), args));
  override('Relu', (args) => relu(onHeapRuntime(args.backend), args));
  override('FusedBatchNorm', (args) => fusedBatchNorm(onHeapRuntime(args.backend), args));
  override('Sum', (args) => leadingAxesSum(onHeapRuntime(args.backend), args));
  override('Mean', (args) => leadingAxesMean(onHeapRuntime(args.backend), args));
  override('Tile', tileKernel);
  override('GatherV2', (args) => gatherRows(args));
  override('Identity', (args) => shareIdentity(args));
  override('Cast', (args) => shareSameTypeCast(args));
  override('Slice', (args) => sliceRows(args));
  registerElementwiseGrads(onHeapRuntime);
  registerBatchNormKernels(onHeapRuntime);
  registerFusedAdam(runtime);
  registerFusedDense((backend, wantThreads) => (wantThreads ? runtime(backend) : onHeapRuntime(backend)));
  registerFusedCnn(runtime);
  // Missing from tfjs-backend-wasm 4.22 altogether (CNNs cannot train on it stock).
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: (args) => {
      countKernelCall('Conv2DBackpropFilter');
      return conv2dBackpropFilter(runtime(args.backend), args);
    },
  });
}

/**
 * Elementwise gradients as one kernel on wasm, each tfjs's own formula in one pass: relu's
 * mul(dy, cast(step(x))) and square's mul(dy, mul(cast(x), 2)) are three passes over each activation
 * (for a CNN's first layer, 11 MB each per step; square: BatchNorm's batch variance). Other backends
 * keep them.
 */
function registerElementwiseGrads(runtime: (backend: unknown) => NativeRuntime): void {
  registerElementwiseGrad(runtime, 'Relu', 'MtlReluGrad', reluGrad);
  registerElementwiseGrad(runtime, 'Square', 'MtlSquareGrad', squareGrad);
}

function registerElementwiseGrad(
  runtime: (backend: unknown) => NativeRuntime,
  opName: string,
  kernelName: string,
  native: (rt: NativeRuntime, dy: Float32Array, x: Float32Array, out: Float32Array) => void,
): void {
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
      countKernelCall(kernelName);
      const out = output(backend, dy.shape);
      native(runtime(backend), heap(backend, dy), heap(backend, x), out.data);
      return out.info;
    },
  });
  const stock = tf.getGradient(opName);
  if (!stock) throw new Error(`no gradient registered for ${opName}`);
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const g = dy as tf.Tensor;
      if (
        tf.getBackend() !== 'wasm' ||
        !x ||
        x.dtype !== 'float32' ||
        g.dtype !== 'float32' ||
        !tf.util.arraysEqual(x.shape, g.shape)
      )
        return stock.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(kernelName, { dy: g, x }) as tf.Tensor };
    },
  });
}

/**
 * The gradients of Mean and Sum without a ones-array of the input's shape: tfjs-core builds one in
 * JavaScript (a fill loop, then a copy into the backend) on every backward pass and multiplies by it.
 * For a BatchNorm CNN's batch moments that was 7.5M elements per step, ~100 ms of a 235 ms step on wasm
 * (bench/RESULTS.md). dy / n broadcast to the input's shape (Tile) is the same numbers: x · 1 is exact.
 */
export function registerReductionGradients(): void {
  for (const kernelName of ['Mean', 'Sum'] as const) {
    const stock = tf.getGradient(kernelName);
    if (!stock) throw new Error(`no gradient registered for ${kernelName}`);
    tf.registerGradient({
      ...stock,
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const g = dy as tf.Tensor;
        if (x?.dtype !== 'float32' || g.dtype !== 'float32') return stock.gradFunc(dy, saved, attrs);
        const { axis } = attrs as unknown as { axis: number | number[] };
        const axes = tf.util.parseAxisParam(axis, x.shape);
        const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
        countKernelCall(`${kernelName}Grad`);
        return {
          x: () => {
            const dyx = g.reshape(expanded);
            return tf.broadcastTo(kernelName === 'Mean' ? dyx.div(count) : dyx, x.shape);
          },
        };
      },
    });
  }
}

/** Replace a stock kernel; `impl` returns null for cases it does not handle, which go to the original. */
function override(kernelName: string, impl: (args: KernelArgs) => TensorInfo | null): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) throw new Error(`wasm kernel ${kernelName} not registered`);
  const kernelFunc: KernelFunc = (args) => {
    const mine = impl(args);
    if (mine === null) return original.kernelFunc(args);
    countKernelCall(kernelName);
    return mine;
  };
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}

// ---------------------------------------------------------------------------------------------------
// Matmul

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

function batchMatMul(
  rt: NativeRuntime,
  { inputs, backend, attrs }: KernelArgs,
  bias: TensorInfo | null,
  relu = false,
): TensorInfo | null {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
  if (!allFloat(a, b) || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = a.shape[transposeA ? ra - 1 : ra - 2]!;
  const k = a.shape[transposeA ? ra - 2 : ra - 1]!;
  const n = b.shape[transposeB ? rb - 2 : rb - 1]!;
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (size(batchShape) !== Math.max(batchA, batchB)) return null;
  const out = output(backend, [...batchShape, m, n]);
  const av = heap(backend, a);
  const bv = heap(backend, b);
  const biasView = bias ? heap(backend, bias) : null;
  for (let i = 0; i < Math.max(batchA, batchB); i++) {
    const ai = batchA === 1 ? 0 : i;
    const bi = batchB === 1 ? 0 : i;
    matMul(
      rt,
      {
        a: av.subarray(ai * m * k, (ai + 1) * m * k),
        b: bv.subarray(bi * k * n, (bi + 1) * k * n),
        m,
        n,
        k,
        transA: transposeA,
        transB: transposeB,
        bias: biasView,
        relu,
      },
      out.data.subarray(i * m * n, (i + 1) * m * n),
    );
  }
  return out.info;
}

/** The fused Dense kernel (inference and linear layers): bias of length n, linear or relu only. */
function fusedMatMul(rt: NativeRuntime, args: KernelArgs): TensorInfo | null {
  const { bias, preluActivationWeights } = args.inputs as { bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const { activation, transposeB } = args.attrs as unknown as MatMulAttrs;
  if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  const b = (args.inputs as { b: TensorInfo }).b;
  const n = b.shape[transposeB ? b.shape.length - 2 : b.shape.length - 1]!;
  if (bias && (!allFloat(bias) || size(bias.shape) !== n)) return null;
  return batchMatMul(rt, args, bias ?? null, activation === 'relu');
}

// ---------------------------------------------------------------------------------------------------
// Elementwise

/** Whether v is one value per channel of x's last axis, broadcast over the rest: shape [C] or [1, …, 1, C]
 *  of no higher rank than x (the result then has x's shape). */
function perChannelOf(v: TensorInfo, x: TensorInfo): boolean {
  const cols = x.shape[x.shape.length - 1]!;
  const leading = v.shape.slice(0, -1);
  return (
    v.shape.length >= 1 &&
    v.shape.length <= x.shape.length &&
    x.shape.length > 1 &&
    v.shape[v.shape.length - 1] === cols &&
    leading.every((d) => d === 1)
  );
}

/**
 * x ∘ v with v one value per channel (last axis), either operand order: Add (how layers add a bias),
 * Multiply and Sub (BatchNorm's gradient scales and centres activations by channel). One IEEE
 * operation per element, as the stock kernels, which take everything else (and whose broadcast path
 * indexes every element: 2 ms for 128x26x26x32 × 32).
 */
function channelBinary(kind: 'add' | 'mul' | 'sub') {
  return (rt: NativeRuntime, { inputs, backend }: KernelArgs): TensorInfo | null => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (!allFloat(a, b) || size(a.shape) === 0 || size(b.shape) === 0) return null;
    const [x, v, swapped] = perChannelOf(b, a)
      ? [a, b, false]
      : perChannelOf(a, b)
        ? [b, a, true]
        : [null, null, false];
    if (!x || !v) return null;
    const cols = x.shape[x.shape.length - 1]!;
    const out = output(backend, x.shape);
    const combine = kind === 'sub' ? (swapped ? 'rsub' : 'sub') : kind;
    biasAct(rt, heap(backend, x), heap(backend, v), cols, false, out.data, combine);
    return out.info;
  };
}
const addBias = channelBinary('add');
const mulChannels = channelBinary('mul');
const subChannels = channelBinary('sub');

/** relu(v) = v < 0 ? 0 : v (NaN and -0 pass through, as in tfjs's cpu kernel). */
function relu(rt: NativeRuntime, { inputs, backend }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype !== 'float32' || size(x.shape) === 0) return null;
  const out = output(backend, x.shape);
  biasAct(rt, heap(backend, x), null, size(x.shape), true, out.data);
  return out.info;
}

// ---------------------------------------------------------------------------------------------------
// Reductions and gathers

/** Gather whole rows along axis 0 (batches from a preloaded dataset) with plain memory copies. */
function gatherRows({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
  if ((axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || indices.dtype !== 'int32') return null;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return null;
  const wasm = backend as WasmBackendLike;
  const rows = x.shape[0]!;
  const row = size(x.shape.slice(1));
  const info = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const dst = wasm.typedArrayFromHeap(info) as Int32Array | Float32Array;
  const src = wasm.typedArrayFromHeap(x) as Int32Array | Float32Array;
  const idx = wasm.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
    if (row === 1) dst[i] = src[r]!;
    else dst.set(src.subarray(r * row, (r + 1) * row), i * row);
  }
  return info;
}

/** Identity shares the input's memory (as tfjs's cpu backend does) instead of copying it: tapes and
 *  optimizers call it on every weight and activation, so stock wasm copied megabytes per step. */
function shareIdentity({ inputs, backend }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') return null;
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** A cast to the type x already has shares x's memory, as tfjs's cpu backend does (tf.moments casts its
 *  input to float32, and square's gradient casts again: stock wasm copied each activation). */
function shareSameTypeCast(args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  return x.dtype === dtype ? shareIdentity(args) : null;
}

/** A contiguous slice (e.g. a run of rows) copied from a view of the input. Stock wasm first copies the
 *  WHOLE input out of the heap (readSync), so slicing 1,000 rows of a dataset copied all of it. */
function sliceRows({ inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const { begin, size: sizeAttr } = attrs as unknown as { begin: number | number[]; size: number | number[] };
  if (x.dtype === 'string') return null;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, sizeAttr) as [number[], number[]];
  if (!tf.slice_util.isSliceContinous(x.shape, begin_, size_)) return null;
  const wasm = backend as WasmBackendLike;
  const info = wasm.makeOutput(size_, x.dtype);
  const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
  const dst = wasm.typedArrayFromHeap(info);
  dst.set(wasm.typedArrayFromHeap(x).subarray(offset, offset + dst.length) as never);
  return info;
}
