// Batch normalisation on wasm: the forward pass with given moments (tfjs's FusedBatchNorm kernel) and
// its gradient (tfjs-core's FusedBatchNorm gradient), each one native pass with the same float32
// operations as the stock code, so the same bits. The batch moments themselves (tf.moments: Mean,
// Sub, Square, Mean) stay tfjs ops on mtl's reduction and per-channel kernels (register.ts, shape.ts).

import { tf } from '../backend/tf.ts';
import { batchNorm, batchNormGrad } from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { countKernelCall } from './calls.ts';
import { allFloat, heap, type KernelArgs, output, size, type TensorInfo } from './utils.ts';

/**
 * FusedBatchNorm (tf.batchNorm: BatchNormalization's forward pass) when mean, variance, scale and
 * offset each hold one value or one per channel of x's last axis: out = offset + (x − mean)·scale /
 * √(variance + ε), tfjs-backend-wasm's operations in its order and precision (the same bits: kernels.c
 * batch_norm; the square roots once per channel here, in float32 as its kernel takes them),
 * vectorised. mnist-cnn's BatchNorm on 128x26x26x32: 12.2 ms per call with the stock kernel.
 */
export function fusedBatchNorm(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo | null {
  const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
  if (!x || !mean || !variance || !allFloat(x, mean, variance, offset, scale)) return null;
  const cols = x.shape[x.shape.length - 1] ?? 0;
  const n = size(x.shape);
  const fits = (t: TensorInfo | undefined): boolean => !t || size(t.shape) === 1 || size(t.shape) === cols;
  if (cols === 0 || n === 0 || ![mean, variance, offset, scale].every(fits)) return null;
  const out = output(backend, x.shape);
  // After output(): making it may grow the heap and detach earlier views.
  const perChannel = (t: TensorInfo | undefined, absent: number): Float32Array => {
    const v = t ? heap(backend, t) : null;
    return Float32Array.from({ length: cols }, (_, c) => (v ? v[v.length === 1 ? 0 : c]! : absent));
  };
  const epsilon = Math.fround((attrs as unknown as { varianceEpsilon: number }).varianceEpsilon);
  // The stock kernel's sqrt(variance + ε) in float32: a double square root of a float32, rounded to
  // float32, is the float32 square root.
  const factor = perChannel(variance, 0).map((v) => Math.fround(Math.sqrt(Math.fround(v + epsilon))));
  const channels = { mean: perChannel(mean, 0), scale: perChannel(scale, 1), factor, offset: perChannel(offset, 0) };
  batchNorm(rt, heap(backend, x), channels, out.data);
  return out.info;
}

const BATCH_NORM_GRAD = 'MtlBatchNormGrad';

/** Tests turn the fused gradient off to compare with tfjs's own. */
export const batchNormTuning = { fusedGrad: true };

/**
 * FusedBatchNorm's gradient for a 4-D activation with per-channel moments (a BatchNorm layer after a
 * convolution, while training) as one kernel: tfjs-core's gradient takes a subtraction, seven
 * multiplications, a tile and four sums over the whole activation (for mnist-cnn's first BatchNorm,
 * 128x26x26x32: 11 MB each), kernels.c batch_norm_grad one pass over x and dy. Same operations per
 * element and the same sum order as the column sums the stock gradient ends in, so the same bits.
 * Other shapes and backends keep the stock gradient.
 */
export function registerBatchNormGrad(runtime: (backend: unknown) => NativeRuntime): void {
  tf.registerKernel({
    kernelName: BATCH_NORM_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy, mean, rstd, scale } = inputs as Record<string, TensorInfo | undefined>;
      if (!x || !dy || !mean || !rstd) throw new Error(`${BATCH_NORM_GRAD}: missing inputs`);
      countKernelCall(BATCH_NORM_GRAD);
      const cols = x.shape[x.shape.length - 1]!;
      // Outputs first: making them may grow the heap and detach earlier views.
      const dx = output(backend, x.shape);
      const outs = [0, 1, 2, 3].map(() => output(backend, [cols]).info);
      const r = Float32Array.from(heap(backend, rstd));
      const channels = {
        mean: Float32Array.from(heap(backend, mean)),
        scale: scale ? Float32Array.from(heap(backend, scale)) : new Float32Array(cols).fill(1),
        rstd: r,
        // tfjs's mul(rstd, -1) and mul(mul(mul(rstd, rstd), rstd), -0.5) in float32: a double product of
        // two float32s is exact, so fround gives the float32 product.
        nrstd: r.map((v) => -v),
        mhrc: r.map((v) => Math.fround(Math.fround(Math.fround(v * v) * v) * -0.5)),
      };
      const sums = new Float32Array(4 * cols);
      batchNormGrad(runtime(backend), heap(backend, x), heap(backend, dy), channels, heap(backend, dx.info), sums);
      for (const [i, info] of outs.entries()) heap(backend, info).set(sums.subarray(i * cols, (i + 1) * cols));
      return [dx.info, ...outs];
    },
  });
  const stock = tf.getGradient('FusedBatchNorm');
  if (!stock) throw new Error('no gradient registered for FusedBatchNorm');
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const g = dy as tf.Tensor;
      const cols = x?.shape[3];
      const perChannel = (t: tf.Tensor | undefined): boolean => !!t && t.rank === 1 && t.shape[0] === cols;
      if (
        !batchNormTuning.fusedGrad ||
        tf.getBackend() !== 'wasm' ||
        !x ||
        x.rank !== 4 ||
        !allFloat(x, g, mean, variance, scale) ||
        size(x.shape) === 0 ||
        !perChannel(mean) ||
        !perChannel(variance) ||
        (scale && !perChannel(scale))
      )
        return stock.gradFunc(dy, saved, attrs);
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      // As the stock gradient: rsqrt(variance + ε) with tfjs's own kernels.
      const rstd = tf.rsqrt(tf.add(variance!, tf.scalar(varianceEpsilon)));
      const inputs: tf.NamedTensorMap = { x, dy: g, mean: mean!, rstd };
      if (scale) inputs.scale = scale;
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD, inputs) as tf.Tensor[];
      return {
        x: () => dx!,
        mean: () => dMean!,
        variance: () => dVariance!,
        scale: () => dScale!,
        offset: () => dOffset!,
      };
    },
  });
}
