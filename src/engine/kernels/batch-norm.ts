// Batch normalisation on wasm, each piece with the same float32 operations as the stock code it
// replaces, so the same bits: the forward pass with given moments (tfjs's FusedBatchNorm kernel), its
// gradient (tfjs-core's FusedBatchNorm gradient) in one native pass, and a BatchNormalization layer in
// training as two kernels: its batch moments with the normalisation, and the gradient of both
// together (what tfjs's tape takes through tf.moments: Mean, Cast, Sub, Square, Mean and their
// gradients, ~17 passes over the activation). Other backends, shapes and layer settings keep tfjs's
// own code.

import { tf } from '../backend/tf.ts';
import { batchMoments, batchNorm, batchNormGrad } from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { countKernelCall } from './calls.ts';
import { allFloat, heap, type KernelArgs, output, size, type TensorInfo } from './utils.ts';

/** Tests turn the fused paths off to compare with tfjs's own. */
export const batchNormTuning = { fusedGrad: true, fusedLayerTraining: true };

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
  const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
  normalize(rt, heap(backend, x), {
    mean: perChannel(mean, 0),
    variance: perChannel(variance, 0),
    scale: perChannel(scale, 1),
    offset: perChannel(offset, 0),
    varianceEpsilon,
    out: out.data,
  });
  return out.info;
}

function normalize(
  rt: NativeRuntime,
  x: Float32Array,
  c: {
    mean: Float32Array;
    variance: Float32Array;
    scale: Float32Array;
    offset: Float32Array;
    varianceEpsilon: number;
    out: Float32Array;
  },
): void {
  const epsilon = Math.fround(c.varianceEpsilon);
  // The stock kernel's sqrt(variance + ε) in float32: a double square root of a float32, rounded to
  // float32, is the float32 square root.
  const factor = c.variance.map((v) => Math.fround(Math.sqrt(Math.fround(v + epsilon))));
  batchNorm(rt, x, { mean: c.mean, scale: c.scale, factor, offset: c.offset }, c.out);
}

/** What batch_norm_grad takes per channel, from rstd = 1/√(variance + ε) as tfjs's rsqrt computed it. */
function gradChannels(backend: unknown, rstd: TensorInfo, mean: TensorInfo | Float32Array, scale?: TensorInfo) {
  const r = Float32Array.from(heap(backend, rstd));
  return {
    mean: mean instanceof Float32Array ? mean : Float32Array.from(heap(backend, mean)),
    scale: scale ? Float32Array.from(heap(backend, scale)) : new Float32Array(r.length).fill(1),
    rstd: r,
    // tfjs's mul(rstd, -1) and mul(mul(mul(rstd, rstd), rstd), -0.5) in float32: a double product of
    // two float32s is exact, so fround gives the float32 product.
    nrstd: r.map((v) => -v),
    mhrc: r.map((v) => Math.fround(Math.fround(Math.fround(v * v) * v) * -0.5)),
  };
}

/** rsqrt(variance + ε) with tfjs's own kernels, as its gradients take it. */
const rsqrtOf = (variance: tf.Tensor, varianceEpsilon: number): tf.Tensor =>
  tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));

const BATCH_NORM_GRAD = 'MtlBatchNormGrad';
const BATCH_NORM_TRAIN = 'MtlBatchNormTrain';
const BATCH_NORM_TRAIN_GRAD = 'MtlBatchNormTrainGrad';

export function registerBatchNormKernels(runtime: (backend: unknown) => NativeRuntime): void {
  registerBatchNormGrad(runtime);
  registerLayerTraining(runtime);
}

/**
 * FusedBatchNorm's gradient for a 4-D activation with per-channel moments (a BatchNorm layer after a
 * convolution, while training) as one kernel: tfjs-core's gradient takes a subtraction, seven
 * multiplications, a tile and four sums over the whole activation (for mnist-cnn's first BatchNorm,
 * 128x26x26x32: 11 MB each), kernels.c batch_norm_grad one pass over x and dy. Same operations per
 * element and the same sum order as the column sums the stock gradient ends in, so the same bits.
 * Other shapes and backends keep the stock gradient.
 */
function registerBatchNormGrad(runtime: (backend: unknown) => NativeRuntime): void {
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
      const sums = new Float32Array(4 * cols);
      const channels = gradChannels(backend, rstd, mean, scale);
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
      const inputs: tf.NamedTensorMap = { x, dy: g, mean: mean!, rstd: rsqrtOf(variance!, varianceEpsilon) };
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

/** What tfjs-layers' BatchNormalization layer keeps that its training branch uses. */
interface BatchNormLayer {
  axis: number;
  center: boolean;
  scale: boolean;
  epsilon: number;
  momentum: number;
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}
interface LayerVariable {
  read(): tf.Tensor;
  write(t: tf.Tensor): void;
}
type LayerCall = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor;

/**
 * A BatchNormalization layer in training (4-D input, channels last, with γ and β: a BatchNorm after
 * a convolution) as two kernels on wasm: MtlBatchNormTrain, the batch moments (kernels.c
 * batch_moments: two passes over x, nothing written but the moments) and the normalisation; and its
 * gradient MtlBatchNormTrainGrad (kernels.c batch_norm_train_grad), the whole of what tfjs's tape
 * takes through tf.moments and FusedBatchNorm, in three passes. Both the same bits as the layer's own
 * code (moments: column sums in row order, then / n; the gradient: the tape's operations and its order
 * of accumulation); the moving averages are updated with the layer's own operations. The moments, the
 * kernel's second and third outputs, only feed those averages: the gradient treats them as constants.
 */
function registerLayerTraining(runtime: (backend: unknown) => NativeRuntime): void {
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAIN,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, scale, offset } = inputs as Record<string, TensorInfo>;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      countKernelCall(BATCH_NORM_TRAIN);
      const cols = x!.shape[3]!;
      const y = output(backend, x!.shape);
      const [mean, variance] = [0, 1].map(() => output(backend, [cols]).info) as [TensorInfo, TensorInfo];
      const moments = new Float32Array(2 * cols);
      const rt = runtime(backend);
      batchMoments(rt, heap(backend, x!), cols, moments);
      heap(backend, mean).set(moments.subarray(0, cols));
      heap(backend, variance).set(moments.subarray(cols));
      normalize(rt, heap(backend, x!), {
        mean: moments.slice(0, cols),
        variance: moments.slice(cols),
        scale: Float32Array.from(heap(backend, scale!)),
        offset: Float32Array.from(heap(backend, offset!)),
        varianceEpsilon,
        out: heap(backend, y.info),
      });
      return [y.info, mean, variance];
    },
  });
  tf.registerKernel({
    kernelName: BATCH_NORM_TRAIN_GRAD,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy, mean, rstd, scale } = inputs as Record<string, TensorInfo>;
      countKernelCall(BATCH_NORM_TRAIN_GRAD);
      const cols = x!.shape[3]!;
      const dx = output(backend, x!.shape);
      const [dScale, dOffset] = [0, 1].map(() => output(backend, [cols]).info) as [TensorInfo, TensorInfo];
      const sums = new Float32Array(7 * cols);
      const channels = gradChannels(backend, rstd!, mean!, scale);
      batchNormGrad(
        runtime(backend),
        heap(backend, x!),
        heap(backend, dy!),
        channels,
        heap(backend, dx.info),
        sums,
        true,
      );
      heap(backend, dScale).set(sums.subarray(2 * cols, 3 * cols));
      heap(backend, dOffset).set(sums.subarray(3 * cols, 4 * cols));
      return [dx.info, dScale, dOffset];
    },
  });
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, scale, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const rstd = rsqrtOf(variance, varianceEpsilon);
      const [dx, dScale, dOffset] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAIN_GRAD, { x, dy, mean, rstd, scale }) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
  const entry = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization;
  if (!entry) throw new Error('tfjs-layers BatchNormalization is not registered');
  const proto = (entry[0] as unknown as { prototype: { call: LayerCall } }).prototype;
  const original = proto.call;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    if (
      !batchNormTuning.fusedLayerTraining ||
      kwargs?.training !== true ||
      tf.getBackend() !== 'wasm' ||
      !x ||
      x.rank !== 4 ||
      x.dtype !== 'float32' ||
      x.size === 0 ||
      (this.axis !== -1 && this.axis !== 3) ||
      !this.center ||
      !this.scale
    )
      return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAIN, { x, scale: this.gamma.read(), offset: this.beta.read() }, {
          varianceEpsilon: this.epsilon,
        } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      // The layer's own moving-average update (tfjs-layers normalization.ts doMovingAverage).
      for (const [variable, value] of [
        [this.movingMean, mean!],
        [this.movingVariance, variance!],
      ] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      return y!;
    });
  };
}
