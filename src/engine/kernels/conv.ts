// mtl's convolution kernels for the wasm backend: the forward pass (plain, and fused with bias and
// relu), the input and filter gradients, and max pooling both ways (forward tiled with channels a
// multiple of 4; the gradient for any pool, tiled from 4 channels on). NHWC only; NCHW and other fused
// activations go to the stock (XNNPACK) kernels. Each convolution pass takes one of three paths
// (native/ops.ts convPath): kernels.c's direct kernels for stride 1, no dilation and few input
// channels (MultiLeNet's 1→10 and 10→20 5x5 layers, mnist-cnn's 1→32 3x3), counted as
// `<kernel>:direct`; Winograd for the passes of other 3x3 stride-1 convolutions summing over 8+
// channels (mnist-cnn's 13x13x32 → 64), F(4x4, 3x3) where it takes fewer products than F(2x2, 3x3)
// (ops.ts winogradTile; the input gradient of a 'valid' one as the forward's adjoint, `-adjoint`), counted as `<kernel>:<path>`; im2col/col2im + sgemm
// for the rest (strides, dilation, other kernel sizes).
// Measured alone (batch 256, 28x28x1 → 10 channels 5x5, min of 11): forward 2.2 ms direct vs 10-17 ms
// im2col, filter gradient 2.3 vs 10-12; 12x12x10 → 20: forward 3.6 vs 6.5, filter 3.8 vs 7.0, input
// 5.1 vs 6.5.

import { tf } from '../backend/tf.ts';
import {
  type ConvPath,
  conv2d,
  conv2dFilterGrad,
  conv2dInputGrad,
  maxPool,
  maxPoolGrad,
  poolIsTiled,
} from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { countKernelCall } from './calls.ts';
import { allFloat, heap, type KernelArgs, output, type TensorInfo } from './utils.ts';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Stride = number | [number, number];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvAttrs {
  strides: Stride;
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: Stride;
  dimRoundingMode?: Rounding;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Counts `<kernel>:<path>` (direct, winograd, winograd4, winograd-adjoint, winograd4-adjoint) when a pass took the direct or Winograd kernels
 *  (tests assert which path ran). */
function countPath(kernelName: string, path: ConvPath): void {
  if (path !== 'im2col') countKernelCall(`${kernelName}:${path}`);
}

/** Conv2D and FusedConv2D (bias, linear or relu); anything else (NCHW, other activations, int) is null. */
export function conv2dForward(
  rt: NativeRuntime,
  kernelName: 'Conv2D' | 'FusedConv2D',
  { inputs, backend, attrs }: KernelArgs,
): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
  const a = attrs as unknown as ConvAttrs & { activation?: string };
  const activation = a.activation ?? 'linear';
  if (
    !x ||
    !filter ||
    a.dataFormat === 'NCHW' ||
    preluActivationWeights ||
    (activation !== 'linear' && activation !== 'relu')
  )
    return null;
  if (!allFloat(x, filter, ...(bias ? [bias] : [])) || x.shape.length !== 4) return null;
  const info = convInfo(x.shape, filter.shape, a);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
  const out = output(backend, info.outShape);
  const path = conv2d(rt, info, heap(backend, x), heap(backend, filter), out.data, {
    bias: bias ? heap(backend, bias) : null,
    relu: activation === 'relu',
  });
  countPath(kernelName, path);
  return out.info;
}

export function conv2dBackpropInput(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvAttrs;
  if (a.dataFormat === 'NCHW' || !allFloat(dy, filter) || !a.inputShape) return null;
  const info = convInfo(a.inputShape, filter.shape, a);
  const out = output(backend, info.inShape);
  countPath('Conv2DBackpropInput', conv2dInputGrad(rt, info, heap(backend, dy), heap(backend, filter), out.data));
  return out.info;
}

export function conv2dBackpropFilter(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs;
  if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = convInfo(x.shape, a.filterShape!, a);
  const out = output(backend, a.filterShape!);
  countPath('Conv2DBackpropFilter', conv2dFilterGrad(rt, info, heap(backend, x), heap(backend, dy), out.data));
  return out.info;
}

export function maxPoolGradKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: Stride;
    strides: Stride;
    pad: Pad;
    dimRoundingMode?: Rounding;
  };
  if (!allFloat(dy, input)) return null;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const out = output(backend, input.shape);
  maxPoolGrad(rt, info, heap(backend, input), heap(backend, dy), out.data);
  return out.info;
}

/** MaxPool when the windows tile the image (2x2 stride 2 and the like); other pools stay on XNNPACK. */
export function maxPoolKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
    filterSize: Stride;
    strides: Stride;
    pad: Pad;
    dimRoundingMode?: Rounding;
  };
  if (!allFloat(x) || x.shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  if (!poolIsTiled(info) || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const out = output(backend, info.outShape);
  maxPool(rt, info, heap(backend, x), out.data);
  return out.info;
}
