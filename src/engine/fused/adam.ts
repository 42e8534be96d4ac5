// Adam in one kernel per variable on the wasm backend (kernels.c `adam`): tfjs-core's
// AdamOptimizer.applyGradients runs ~15 ops per variable, each with its own dispatch and pass over
// memory. Same float32 operations in the same order, so the same bits; the optimizer object, its
// moments, β-powers and iteration count stay tfjs's own (checkpoints and getWeights are unchanged).

import { tf } from '../backend/tf.ts';
import { countKernelCall } from '../kernels/calls.ts';
import { type KernelArgs, operand, type TensorInfo, type WasmBackendLike } from '../kernels/utils.ts';
import { OP } from '../native/op-codes.ts';
import type { NativeRuntime } from '../native/runtime.ts';

const KERNEL = 'MtlAdam';

/** The Adam hyper-parameters and bias corrections one native `adam` call needs. */
export interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ, from tfjs's float32 β-power variables. */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}

/** The AdamOptimizer fields this reads and updates (tfjs-core 4.22, adam_optimizer.ts). */
export interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

const floatBits = new Int32Array(1);
const floatView = new Float32Array(floatBits.buffer);
/** The bits of `x` rounded to float32, for a params word. */
export function f32Bits(x: number): number {
  floatView[0] = x;
  return floatBits[0]!;
}

/** Register the kernel: inputs {x, m, v, g}, outputs [x', m', v']. */
export function registerFusedAdam(runtime: (backend: unknown) => NativeRuntime): void {
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      countKernelCall(KERNEL);
      return adamKernel(runtime(args.backend), args);
    },
  });
}

function adamKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { x, m, v, g } = inputs as Record<'x' | 'm' | 'v' | 'g', TensorInfo>;
  const a = attrs as unknown as AdamAttrs;
  const wasm = backend as WasmBackendLike;
  const outs = [x, m, v].map((t) => wasm.makeOutput(t.shape, 'float32'));
  const view = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  rt.reset();
  const ptrs = [x, m, v, g].map((t) => operand(rt, wasm, t));
  const targets = outs.map((t) => rt.output(view(t)));
  const [xPtr, mPtr, vPtr, gPtr] = ptrs as [number, number, number, number];
  const [x2, m2, v2] = targets.map((t) => t.addr) as [number, number, number];
  rt.run(adamParams(view(x).length, [xPtr, mPtr, vPtr, gPtr], [x2, m2, v2], a), false);
  targets.forEach((t) => {
    rt.deliver(t);
  });
  return outs;
}

/** The params words of kernels.c's `adam` op: n values at x, m, v, g → x', m', v'. */
export function adamParams(
  n: number,
  [x, m, v, g]: [number, number, number, number],
  [x2, m2, v2]: [number, number, number],
  a: AdamAttrs,
): number[] {
  return [
    OP.ADAM,
    n,
    x,
    m,
    v,
    g,
    x2,
    m2,
    v2,
    f32Bits(a.beta1),
    f32Bits(1 - a.beta1),
    f32Bits(a.beta2),
    f32Bits(1 - a.beta2),
    f32Bits(a.oneMinusAccBeta1),
    f32Bits(a.oneMinusAccBeta2),
    f32Bits(a.epsilon),
    f32Bits(-a.learningRate),
  ];
}

/** The optimizer's moment variables for slot `i`, created lazily exactly as AdamOptimizer.applyGradients does (names, zeros, not trainable). */
export function adamMoments(o: AdamInternals, i: number, value: tf.Variable): { m: tf.Variable; v: tf.Variable } {
  o.accumulatedFirstMoment[i] ??= {
    originalName: `${value.name}/m`,
    variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
  };
  o.accumulatedSecondMoment[i] ??= {
    originalName: `${value.name}/v`,
    variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
  };
  return { m: o.accumulatedFirstMoment[i]!.variable, v: o.accumulatedSecondMoment[i]!.variable };
}

/**
 * Apply `grads` with `optimizer` through the fused kernel when it is an Adam optimizer on the wasm
 * backend; returns false (nothing done) otherwise, and the caller uses optimizer.applyGradients.
 */
export function applyFusedAdam(optimizer: tf.Optimizer, grads: tf.NamedTensorMap): boolean {
  // Not instanceof: tfjs's Optimizer[Symbol.hasInstance] says yes for every optimizer.
  if (optimizer.getClassName() !== 'Adam' || tf.getBackend() !== 'wasm' || !tf.getKernel(KERNEL, 'wasm')) return false;
  const o = optimizer as unknown as AdamInternals;
  const names = Object.keys(grads);
  tf.tidy(() => {
    // tfjs computes sub(1, accBeta) in float32; fround of the exact difference is the same number.
    const oneMinusAccBeta1 = Math.fround(1 - o.accBeta1.dataSync()[0]!);
    const oneMinusAccBeta2 = Math.fround(1 - o.accBeta2.dataSync()[0]!);
    const attrs: AdamAttrs = {
      beta1: o.beta1,
      beta2: o.beta2,
      epsilon: o.epsilon,
      learningRate: o.learningRate,
      oneMinusAccBeta1,
      oneMinusAccBeta2,
    };
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const { m, v } = adamMoments(o, i, value);
      const gradient = grads[name];
      if (gradient == null) return;
      const [x2, m2, v2] = tf
        .engine()
        .runKernel(KERNEL, { x: value, m, v, g: gradient }, attrs as never) as tf.Tensor[];
      m.assign(m2!);
      v.assign(v2!);
      value.assign(x2!);
    });
    o.accBeta1.assign(o.accBeta1.mul(o.beta1));
    o.accBeta2.assign(o.accBeta2.mul(o.beta2));
  });
  o.incrementIterations();
  return true;
}
