// tfjs's fused conv2d (what tfjs-layers' Conv2D always calls) keeps its fused kernel while a gradient
// is recorded when the activation is linear (a convolution followed by BatchNorm), and its custom
// gradient then computes the input's gradient too, even where nothing needs it: a model's first
// convolution, whose input is the data (the BatchNorm CNN's 28x28x1 → 26x26x32 input gradient, 9.4 ms
// of a ~90 ms step on one core). On wasm, while a gradient is recorded, a linear fused conv2d runs as
// conv2d then add(bias) instead, as tfjs itself does for every other activation: the tape then
// computes the input's gradient only where something needs it. The same bits: mtl's FusedConv2D adds
// the bias after the sum (direct, Winograd and im2col paths alike), as Add does, and both gradients
// call the same filter-gradient kernel and sum dy over the same axes.
import { tf } from '../backend/tf.ts';

type FusedConv2d = typeof tf.fused.conv2d;

/** Tests turn the rewrite off to compare with tfjs's own fused path. */
export const fusedConvTuning = { unfuseLinearInTraining: true };

let installed = false;

export function unfuseLinearConv2dInTraining(): void {
  if (installed) return;
  installed = true;
  const fused = tf.fused as { conv2d: FusedConv2d };
  const original = fused.conv2d;
  fused.conv2d = ((args: Parameters<FusedConv2d>[0]) => {
    const recording = (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
    const { activation = 'linear', dataFormat = 'NHWC', preluActivationWeights, bias } = args;
    if (
      !fusedConvTuning.unfuseLinearInTraining ||
      !recording ||
      activation !== 'linear' ||
      dataFormat !== 'NHWC' ||
      preluActivationWeights != null ||
      tf.getBackend() !== 'wasm'
    )
      return original(args);
    const y = tf.conv2d(
      args.x as tf.Tensor4D,
      args.filter as tf.Tensor4D,
      args.strides,
      args.pad,
      dataFormat,
      args.dilations,
      args.dimRoundingMode,
    );
    return bias == null ? y : tf.add(y, bias);
  }) as FusedConv2d;
}
