// Typed entry points to the native kernels on Float32Arrays: matmul (with transposes, bias and relu),
// convolution forward and both gradients (im2col + gemm, image chunk by image chunk), max-pool
// gradient and column sums. Operands living in the runtime's memory are used in place; others are
// staged. Every operand and output is resolved BEFORE any scratch alloc (which may move memory).
import { OP } from './op-codes.ts';
import type { NativeRuntime } from './runtime.ts';

/** Below this many multiply-adds a call runs on the calling thread: waking workers costs ~20–50 µs. */
const PARALLEL_MIN_MACS = 1 << 20;
/** Patch matrices are built for this many bytes of images at a time, so scratch stays bounded. */
const PATCH_CHUNK_BYTES = 16 << 20;

export interface MatMulArgs {
  a: Float32Array;
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** Added to every row (length n). */
  bias?: Float32Array | null;
  relu?: boolean;
}

/** out[m, n] = op(a) · op(b) (+ bias) (relu); a is [m, k] (or [k, m] when transA), b is [k, n] (or [n, k]). */
export function matMul(rt: NativeRuntime, args: MatMulArgs, out: Float32Array): void {
  rt.reset();
  const a = rt.input(args.a);
  const b = rt.input(args.b);
  const bias = args.bias ? rt.input(args.bias) : 0;
  const c = rt.output(out);
  gemm(rt, { ...args, aPtr: a, bPtr: b, cPtr: c.addr, biasPtr: bias, accumulate: false });
  rt.deliver(c);
}

/** One sgemm on byte addresses already resolved in the runtime's memory (see matMul for arrays). */
export interface GemmCall {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aPtr: number;
  bPtr: number;
  cPtr: number;
  biasPtr: number;
  relu?: boolean;
  accumulate: boolean;
}

export function gemm(rt: NativeRuntime, g: GemmCall): void {
  const lda = g.transA ? g.m : g.k;
  const ldb = g.transB ? g.k : g.n;
  rt.run(
    [
      OP.GEMM,
      +g.transA,
      +g.transB,
      g.m,
      g.n,
      g.k,
      g.aPtr,
      lda,
      g.bPtr,
      ldb,
      g.cPtr,
      g.n,
      +g.accumulate,
      g.biasPtr,
      g.relu ? 1 : 0,
      rt.workPtr,
    ],
    g.m * g.n * g.k >= PARALLEL_MIN_MACS,
  );
}

/** NHWC convolution geometry (what tfjs's backend_util.computeConv2DInfo reports). */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

export interface ChunkOptions {
  /** Bytes of patch matrix per chunk of images (default 16 MiB). */
  chunkBytes?: number;
}

/** Runs of images whose patch matrix fits `chunkBytes`. */
function imageChunks(g: ConvGeometry, chunkBytes = PATCH_CHUNK_BYTES): Array<[number, number]> {
  const perImage = g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels * 4;
  const step = Math.max(1, Math.floor(chunkBytes / Math.max(perImage, 1)));
  const chunks: Array<[number, number]> = [];
  for (let b = 0; b < g.batchSize; b += step) chunks.push([b, Math.min(g.batchSize, b + step)]);
  return chunks;
}

function convParams(op: number, g: ConvGeometry, images: number, xPtr: number, patchesPtr: number): number[] {
  return [
    op,
    images,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padInfo.top,
    g.padInfo.left,
    g.dilationHeight,
    g.dilationWidth,
    xPtr,
    patchesPtr,
  ];
}

/** Floats per image of x, output positions per image, and patch length. */
function sizes(g: ConvGeometry): { image: number; rows: number; kdim: number } {
  return {
    image: g.inHeight * g.inWidth * g.inChannels,
    rows: g.outHeight * g.outWidth,
    kdim: g.filterHeight * g.filterWidth * g.inChannels,
  };
}

const bigEnough = (floats: number): boolean => floats >= PARALLEL_MIN_MACS / 8;

/** y[b, oy, ox, co] = Σ patches(x) · filter (+ bias) (relu). */
export function conv2d(
  rt: NativeRuntime,
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  opts: ChunkOptions & { bias?: Float32Array | null; relu?: boolean } = {},
): void {
  const { image, rows, kdim } = sizes(g);
  rt.reset();
  const xPtr = rt.input(x);
  const w = rt.input(filter);
  const bias = opts.bias ? rt.input(opts.bias) : 0;
  const y = rt.output(out);
  const mark = rt.mark();
  for (const [b0, b1] of imageChunks(g, opts.chunkBytes)) {
    rt.resetTo(mark);
    const n = b1 - b0;
    const patches = rt.alloc(n * rows * kdim);
    rt.run(convParams(OP.IM2COL, g, n, xPtr + b0 * image * 4, patches), bigEnough(n * rows * kdim));
    gemm(rt, {
      m: n * rows,
      n: g.outChannels,
      k: kdim,
      transA: false,
      transB: false,
      aPtr: patches,
      bPtr: w,
      cPtr: y.addr + b0 * rows * g.outChannels * 4,
      biasPtr: bias,
      relu: opts.relu,
      accumulate: false,
    });
  }
  rt.deliver(y);
}

/** dFilter[kdim, cout] = patches(x)ᵀ · dy, accumulated over image chunks. */
export function conv2dFilterGrad(
  rt: NativeRuntime,
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  out: Float32Array,
  opts: ChunkOptions = {},
): void {
  const { image, rows, kdim } = sizes(g);
  rt.reset();
  const xPtr = rt.input(x);
  const dyPtr = rt.input(dy);
  const df = rt.output(out);
  const mark = rt.mark();
  imageChunks(g, opts.chunkBytes).forEach(([b0, b1], i) => {
    rt.resetTo(mark);
    const n = b1 - b0;
    const patches = rt.alloc(n * rows * kdim);
    rt.run(convParams(OP.IM2COL, g, n, xPtr + b0 * image * 4, patches), bigEnough(n * rows * kdim));
    gemm(rt, {
      m: kdim,
      n: g.outChannels,
      k: n * rows,
      transA: true,
      transB: false,
      aPtr: patches,
      bPtr: dyPtr + b0 * rows * g.outChannels * 4,
      cPtr: df.addr,
      biasPtr: 0,
      accumulate: i > 0,
    });
  });
  rt.deliver(df);
}

/** dx = col2im(dy · filterᵀ). */
export function conv2dInputGrad(
  rt: NativeRuntime,
  g: ConvGeometry,
  dy: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  opts: ChunkOptions = {},
): void {
  const { image, rows, kdim } = sizes(g);
  rt.reset();
  const dyPtr = rt.input(dy);
  const w = rt.input(filter);
  const dx = rt.output(out);
  const mark = rt.mark();
  for (const [b0, b1] of imageChunks(g, opts.chunkBytes)) {
    rt.resetTo(mark);
    const n = b1 - b0;
    const patches = rt.alloc(n * rows * kdim);
    gemm(rt, {
      m: n * rows,
      n: kdim,
      k: g.outChannels,
      transA: false,
      transB: true,
      aPtr: dyPtr + b0 * rows * g.outChannels * 4,
      bPtr: w,
      cPtr: patches,
      biasPtr: 0,
      accumulate: false,
    });
    rt.run(convParams(OP.COL2IM, g, n, dx.addr + b0 * image * 4, patches), bigEnough(n * rows * kdim));
  }
  rt.deliver(dx);
}

/** NHWC pooling geometry (backend_util.computePool2DInfo). */
export interface PoolGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padInfo: { top: number; left: number };
}

/** dx: each window's dy goes to the window's first maximum of x. */
export function maxPoolGrad(
  rt: NativeRuntime,
  g: PoolGeometry,
  x: Float32Array,
  dy: Float32Array,
  out: Float32Array,
): void {
  rt.reset();
  const xPtr = rt.input(x);
  const dyPtr = rt.input(dy);
  const dx = rt.output(out);
  rt.run(
    [
      OP.MAX_POOL_GRAD,
      g.batchSize,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      g.filterHeight,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.padInfo.top,
      g.padInfo.left,
      xPtr,
      dyPtr,
      dx.addr,
    ],
    bigEnough(x.length),
  );
  rt.deliver(dx);
}

/** Whether max pooling with this geometry takes the tiled kernels (maxPool, and maxPoolGrad's fast
 *  path): windows that tile the image (stride = window, no padding), channels a multiple of 4. */
export function poolIsTiled(g: PoolGeometry): boolean {
  return (
    g.strideHeight === g.filterHeight &&
    g.strideWidth === g.filterWidth &&
    g.padInfo.top === 0 &&
    g.padInfo.left === 0 &&
    g.inChannels % 4 === 0 &&
    g.outHeight * g.filterHeight <= g.inHeight &&
    g.outWidth * g.filterWidth <= g.inWidth
  );
}

/** Max pooling for a tiled geometry (poolIsTiled): the first maximum of each window. */
export function maxPool(rt: NativeRuntime, g: PoolGeometry, x: Float32Array, out: Float32Array): void {
  if (!poolIsTiled(g))
    throw new Error('maxPool: windows must tile the image (stride = window, no padding, channels % 4 = 0)');
  rt.reset();
  const xPtr = rt.input(x);
  const y = rt.output(out);
  rt.run(
    [
      OP.MAX_POOL,
      g.batchSize,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      g.filterHeight,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      0,
      0,
      xPtr,
      0,
      y.addr,
    ],
    bigEnough(x.length),
  );
  rt.deliver(y);
}

/** out[r, c] = act(x[r, c] + bias[c]) for x viewed as [rows, cols]; bias optional, act linear or relu. */
export function biasAct(
  rt: NativeRuntime,
  x: Float32Array,
  bias: Float32Array | null,
  cols: number,
  relu: boolean,
  out: Float32Array,
): void {
  rt.reset();
  const xPtr = rt.input(x);
  const b = bias ? rt.input(bias) : 0;
  const o = rt.output(out);
  rt.run([OP.BIAS_ACT, x.length / cols, cols, xPtr, b, o.addr, relu ? 1 : 0], bigEnough(x.length));
  rt.deliver(o);
}

/** out[c] = Σ_r x[r, c] for x viewed as [rows, cols]. */
export function columnSum(rt: NativeRuntime, x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  rt.reset();
  const xPtr = rt.input(x);
  const o = rt.output(out);
  rt.run([OP.COLUMN_SUM, rows, cols, xPtr, o.addr], false);
  rt.deliver(o);
}

/** out = dy · step(x): the relu gradient in one pass (tfjs takes three: step, cast, multiply). */
export function reluGrad(rt: NativeRuntime, dy: Float32Array, x: Float32Array, out: Float32Array): void {
  rt.reset();
  const dyPtr = rt.input(dy);
  const xPtr = rt.input(x);
  const o = rt.output(out);
  rt.run([OP.RELU_MASK, out.length, dyPtr, xPtr, o.addr], false);
  rt.deliver(o);
}
