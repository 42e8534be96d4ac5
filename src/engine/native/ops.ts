// Typed entry points to the native kernels on Float32Arrays: matmul (with transposes, bias and relu),
// convolution forward and both gradients (direct kernels for few channels, Winograd F(2x2, 3x3) or
// F(4x4, 3x3) for other 3x3 stride-1 passes, else im2col + gemm image chunk by image chunk; convPath decides), max-pool both ways and column sums. Operands living in the runtime's memory are used in place; others are
// staged. Every operand and output is resolved BEFORE any scratch alloc (which may move memory).
import { countKernelCall } from '../kernels/calls.ts';
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

/** kernelCalls counter of the gemms that took kernels.c's skinny path (N ≤ SKINNY_N, e.g. logits). */
export const SKINNY_GEMM = 'gemm:skinny';
/** The widest N the skinny path takes (kernels.c SKINNY_N). */
const SKINNY_N = 12;
/** Tests turn the skinny path off to compare it with the packed one: the same bits either way. */
export const gemmTuning = { skinny: true };

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
  const skinny = gemmTuning.skinny && g.n <= SKINNY_N && g.k > 0;
  if (skinny) countKernelCall(SKINNY_GEMM);
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
      skinny ? 1 : 0,
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
  /** Force a path (tests, benchmarks); by default convPath decides. */
  path?: ConvPath;
  /** Winograd tiles per chunk (benchmarks; default WINO_TILES, for the filter gradient WINO_GRAD_TILES). */
  tiles?: number;
}

/** How a convolution pass runs: kernels.c's direct small-channel kernels, Winograd F(2x2, 3x3) or
 *  F(4x4, 3x3) (`winograd4`; 3x3, stride 1), or im2col/col2im + sgemm. The input gradient's Winograd
 *  passes come two ways: the full correlation of dy with the flipped filter (tiles over dx: `winograd`,
 *  `winograd4`) or the adjoint of the forward pass (tiles over dy: `winograd-adjoint`,
 *  `winograd4-adjoint`), whichever takes fewer products. */
export type ConvPath = 'direct' | 'im2col' | 'winograd' | 'winograd4' | 'winograd-adjoint' | 'winograd4-adjoint';

/** Winograd's tile size m of a path (2 or 4), whether it is the input gradient's adjoint; null for the others. */
function winogradKind(path: ConvPath): { m: 2 | 4; adjoint: boolean } | null {
  if (path === 'winograd' || path === 'winograd-adjoint') return { m: 2, adjoint: path !== 'winograd' };
  if (path === 'winograd4' || path === 'winograd4-adjoint') return { m: 4, adjoint: path !== 'winograd4' };
  return null;
}
export type ConvPass = 'forward' | 'filter' | 'input';

/** Images per chunk of the direct filter gradient: the batch in at most this many partial sums (a
 *  function of the batch alone, so the sum order never depends on the thread count). */
const FILTER_CHUNKS = 16;

const round4 = (n: number): number => (n + 3) & ~3;

/** Whether the direct kernels handle this geometry: stride 1, no dilation, top and left padding within
 *  the kernel (as 'same' and 'valid'), and the padded image (and dy, channels padded to 4) fit a thread's
 *  workspace. */
export function directFits(g: ConvGeometry, pass: ConvPass, workFloats: number): boolean {
  const { filterHeight: fh, filterWidth: fw } = g;
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1) return false;
  const { top, left } = g.padInfo;
  if (top < 0 || left < 0 || top > fh - 1 || left > fw - 1) return false;
  if (g.outHeight < 1 || g.outWidth < 1 || g.inHeight < 1 || g.inWidth < 1) return false;
  const free = workFloats - 64;
  if (pass === 'input') return (g.inHeight + fh - 1) * (g.inWidth + fw - 1) * g.outChannels <= free;
  const padded = (g.outHeight + fh - 1) * (g.outWidth + fw - 1) * g.inChannels;
  return pass === 'forward' ? padded <= free : padded + g.outHeight * g.outWidth * round4(g.outChannels) <= free;
}

/** Winograd tiles per chunk (kernels.c wino_chunk), in whole blocks of 12 (a multiple of the sgemm
 *  tile's 4 or 6 rows): as many as keep a chunk's transformed tiles and products (16·tiles·(k + n)
 *  floats, channels padded) well inside L2 and the thread's workspace; 0 when not even 12 fit. */
export const WINO_TILES = 24;
/** kernels.c's WINO_SKEW: floats of padding after each transformed matrix (and each tile's products). */
const WINO_SKEW = 16;

export function winogradTiles(k: number, n: number, workFloats: number, want = WINO_TILES, m: 2 | 4 = 2): number {
  for (let t = Math.max(12, Math.floor(want / 12) * 12); t >= 12; t -= 12) {
    if (winogradChunkFits(t, k, n, m, workFloats)) return t;
  }
  return 0;
}

/** Whether a chunk of `tiles` tiles (its sgemm rows rounded up to 12) fits a thread's workspace:
 *  kernels.c's transformed tiles (X x tiles x k), products (tiles x X x n) and staging (X x k), channels
 *  padded, for the forward pass and both input-gradient forms (k summed, n produced). */
function winogradChunkFits(tiles: number, k: number, n: number, m: 2 | 4, workFloats: number): boolean {
  const kp = round4(k);
  const np = (n + 7) & ~7;
  const xi = (m + 2) ** 2;
  const rows = Math.ceil(tiles / 12) * 12;
  return xi * (rows * kp + WINO_SKEW) + rows * (xi * np + WINO_SKEW) + xi * kp <= workFloats - 64;
}

/** Multiplications per channel pair of Winograd F(m x m, 3x3) over tiles covering an h x w grid. */
function winogradProducts(h: number, w: number, m: 2 | 4): number {
  return Math.ceil(h / m) * Math.ceil(w / m) * (m + 2) ** 2;
}

/** Tiles per chunk of Winograd F(4x4, 3x3) (kernels.c wino4_chunk): 6x6 tiles of 16 outputs each. */
export const WINO4_TILES = 12;

/** Tiles the adjoint input gradient (kernels.c wino_dx_chunk_m) aims for per chunk; a chunk is a run of
 *  whole images (its tiles overlap in dx, so one chunk adds them up in order). */
export const WINO_ADJOINT_TILES = 36;

/** Tiles per chunk of the adjoint input gradient, F(m x m): as many whole images' forward tiles as come
 *  to at most `want` (at least one image), when they fit a thread's workspace as winogradTiles's chunks
 *  do; else 0 (the full correlation takes the pass). */
export function winogradAdjointTiles(g: ConvGeometry, workFloats: number, m: 2 | 4, want = WINO_ADJOINT_TILES): number {
  const perImage = Math.ceil(g.outHeight / m) * Math.ceil(g.outWidth / m);
  const tiles = Math.max(1, Math.floor(want / perImage)) * perImage;
  return winogradChunkFits(tiles, g.outChannels, g.inChannels, m, workFloats) ? tiles : 0;
}

/** Most bytes of partial sums the Winograd filter gradient takes (16 chunks x 16 x cin x cout floats:
 *  2.4 MB for 32 → 64 channels); wider layers keep im2col + sgemm's bounded patch chunks. */
const WINO_GRAD_PARTIAL_BYTES = 32 << 20;

/** Whether Winograd F(m x m, 3x3) (m = 2 or 4) handles this pass: a 3x3 kernel, stride 1, no dilation, top and left
 *  padding 0..2, a chunk (block) of 12 tiles fits a thread's workspace, and (filter gradient) its
 *  partial sums stay within WINO_GRAD_PARTIAL_BYTES. */
export function winogradFits(g: ConvGeometry, pass: ConvPass, workFloats: number, m: 2 | 4 = 2): boolean {
  if (g.filterHeight !== 3 || g.filterWidth !== 3) return false;
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1) return false;
  const { top, left } = g.padInfo;
  if (top < 0 || left < 0 || top > 2 || left > 2) return false;
  if (g.outHeight < 1 || g.outWidth < 1 || g.inHeight < 1 || g.inWidth < 1) return false;
  if (pass === 'filter') {
    const xi = (m + 2) ** 2;
    const partials = FILTER_CHUNKS * xi * Math.ceil(g.inChannels / 12) * 12 * ((g.outChannels + 7) & ~7) * 4;
    return (
      partials <= WINO_GRAD_PARTIAL_BYTES &&
      winogradGradTiles(g.inChannels, g.outChannels, workFloats, undefined, m) > 0
    );
  }
  const [k, n] = pass === 'forward' ? [g.inChannels, g.outChannels] : [g.outChannels, g.inChannels];
  return winogradTiles(k, n, workFloats, undefined, m) > 0;
}

/** Tiles per block of the Winograd filter gradient (kernels.c wino_filter_grad_chunk): the sgemm's K,
 *  as many as fit the workspace up to `want`, in blocks of 12; 0 when not even 12 fit. */
export const WINO_GRAD_TILES = 96;
/** The same for F(4x4, 3x3) (kernels.c wino4_filter_grad_chunk). */
export const WINO4_GRAD_TILES = 72;

export function winogradGradTiles(
  k: number,
  n: number,
  workFloats: number,
  want = WINO_GRAD_TILES,
  m: 2 | 4 = 2,
): number {
  const k12 = Math.ceil(k / 12) * 12;
  const np = (n + 7) & ~7;
  const xi = (m + 2) ** 2;
  for (let t = Math.max(12, Math.floor(want / 12) * 12); t >= 12; t -= 12) {
    if (xi * (t * (k12 + np) + 2 * WINO_SKEW) + xi * Math.max(round4(k), np) <= workFloats - 64) return t;
  }
  return 0;
}

/** The Winograd filter gradient: chunks of images (the batch in at most FILTER_CHUNKS partial sums, a
 *  function of the batch alone, as the direct kernel's, so the sum order never depends on the thread
 *  count), then the partial sums added in chunk order and transformed back (Gᵀ dU G). */
function winogradFilterGrad(
  rt: NativeRuntime,
  g: ConvGeometry,
  xPtr: number,
  dyPtr: number,
  dfPtr: number,
  want: number | undefined,
  m: 2 | 4,
): void {
  const k = g.inChannels;
  const n = g.outChannels;
  const images = Math.ceil(g.batchSize / FILTER_CHUNKS);
  const chunks = Math.ceil(g.batchSize / images);
  const partial = rt.alloc(chunks * (m + 2) ** 2 * Math.ceil(k / 12) * 12 * ((n + 7) & ~7));
  rt.run(
    [
      m === 4 ? OP.WINO4_GRAD : OP.WINO_GRAD,
      g.batchSize,
      g.inHeight,
      g.inWidth,
      k,
      g.outHeight,
      g.outWidth,
      n,
      g.padInfo.top,
      g.padInfo.left,
      winogradGradTiles(k, n, rt.workFloats, want ?? (m === 4 ? WINO4_GRAD_TILES : WINO_GRAD_TILES), m),
      images,
      xPtr,
      dyPtr,
      partial,
      rt.workPtr,
    ],
    bigEnough(g.batchSize * g.outHeight * g.outWidth * k * 4),
  );
  rt.run([m === 4 ? OP.WINO4_GRAD_SUM : OP.WINO_GRAD_SUM, chunks, k, n, partial, dfPtr], false);
}

/** Winograd's output tile for a pass whose tiles cover an h x w grid (the forward pass and the filter
 *  gradient: the convolution's output; the input gradient: its input): F(4x4, 3x3) when its 36 products
 *  per 4x4 tile (and channel pair) come to fewer than F(2x2, 3x3)'s 16 per 2x2 (mnist-cnn's 11x11: 324
 *  against 576; 13x13: 576 against 784), else F(2x2) (ties included: it rounds closer). */
export function winogradTile(h: number, w: number): 2 | 4 {
  return winogradProducts(h, w, 4) < winogradProducts(h, w, 2) ? 4 : 2;
}

/** The path a pass takes by default: direct where it measured faster than im2col + sgemm, else
 *  Winograd for 3x3 stride-1 passes that sum over 8 or more channels (the filter gradient: with 8 or
 *  more channels each way), F(4x4) or F(2x2) as winogradTile says, else im2col (bench:
 *  MTL_DIRECT_CONV=0 turns the direct kernels off, MTL_WINOGRAD=0 Winograd, MTL_WINOGRAD4=0 F(4x4)). */
export function convPath(g: ConvGeometry, pass: ConvPass, workFloats: number): ConvPath {
  if (process.env.MTL_DIRECT_CONV !== '0' && directFits(g, pass, workFloats)) {
    const small = pass === 'input' ? g.inChannels >= 4 && g.outChannels <= 32 : g.inChannels <= 16;
    if (small) return 'direct';
  }
  if (process.env.MTL_WINOGRAD !== '0' && winogradFits(g, pass, workFloats)) {
    const summed =
      pass === 'input' ? g.outChannels : pass === 'forward' ? g.inChannels : Math.min(g.inChannels, g.outChannels);
    if (summed >= 8) {
      if (pass === 'input') return winogradInputPath(g, workFloats);
      const four = process.env.MTL_WINOGRAD4 !== '0' && winogradTile(g.outHeight, g.outWidth) === 4;
      return four && winogradFits(g, pass, workFloats, 4) ? 'winograd4' : 'winograd';
    }
  }
  return 'im2col';
}

/** The input gradient's Winograd path: of F(2x2) and F(4x4), each over dx's tiles (full correlation) or
 *  over dy's (the adjoint, where a chunk of whole images fits), the one with the fewest products (tiles
 *  x (m + 2)²); ties go to the full correlation (plain stores, no overlapping adds) and to F(2x2), as in
 *  winogradTile. mnist-cnn's 13x13 input gradient (11x11 dy): F(4x4) adjoint 324 products per channel
 *  pair, F(4x4) full 576, F(2x2) adjoint 576, F(2x2) full 784. MTL_WINOGRAD_ADJOINT=0 leaves only the full
 *  correlation (bench), MTL_WINOGRAD4=0 only F(2x2). */
function winogradInputPath(g: ConvGeometry, workFloats: number): ConvPath {
  const options: Array<[ConvPath, number]> = [];
  const sizes: Array<2 | 4> = process.env.MTL_WINOGRAD4 === '0' ? [2] : [2, 4];
  const adjoint = process.env.MTL_WINOGRAD_ADJOINT !== '0';
  for (const m of sizes) {
    if (m === 2 || winogradFits(g, 'input', workFloats, 4))
      options.push([m === 4 ? 'winograd4' : 'winograd', winogradProducts(g.inHeight, g.inWidth, m)]);
    if (adjoint && winogradAdjointTiles(g, workFloats, m) > 0)
      options.push([m === 4 ? 'winograd4-adjoint' : 'winograd-adjoint', winogradProducts(g.outHeight, g.outWidth, m)]);
  }
  let best = options[0]!;
  for (const o of options) if (o[1] < best[1]) best = o;
  return best[0];
}

function choosePath(rt: NativeRuntime, g: ConvGeometry, pass: ConvPass, forced?: ConvPath): ConvPath {
  if (forced === 'direct' && !directFits(g, pass, rt.workFloats))
    throw new Error(`direct convolution (${pass}) does not support this geometry`);
  if (forced === 'winograd' && !winogradFits(g, pass, rt.workFloats))
    throw new Error(`Winograd convolution (${pass}) does not support this geometry`);
  if (forced === 'winograd4' && !winogradFits(g, pass, rt.workFloats, 4))
    throw new Error(`Winograd F(4x4, 3x3) convolution (${pass}) does not support this geometry`);
  const kind = forced ? winogradKind(forced) : null;
  if (
    kind?.adjoint &&
    (pass !== 'input' || !winogradFits(g, pass, rt.workFloats) || !winogradAdjointTiles(g, rt.workFloats, kind.m))
  )
    throw new Error(`the adjoint Winograd input gradient (${forced}, ${pass}) does not support this geometry`);
  return forced ?? convPath(g, pass, rt.workFloats);
}

/** Winograd F(m x m, 3x3), m = 2 or 4: the forward pass (x, filter, bias, relu), the input gradient as a
 *  full correlation (dy, the filter flipped with its channel axes swapped, top/left padding 2 − top/left)
 *  or as the forward pass's adjoint (`adjoint`: dy's tiles, the filter's channel axes swapped, dx's
 *  overlapping input tiles added up). Scratch: the transformed filter. */
function winograd(
  rt: NativeRuntime,
  g: ConvGeometry,
  pass: 'forward' | 'input',
  p: { x: number; filter: number; bias: number; y: number; relu?: boolean; tiles?: number },
  m: 2 | 4,
  adjoint = false,
): void {
  const fwd = pass === 'forward';
  const [k, n] = fwd ? [g.inChannels, g.outChannels] : [g.outChannels, g.inChannels];
  // The adjoint keeps the forward's geometry: in_h x in_w is dx's size, out_h x out_w dy's.
  const [inH, inW, outH, outW] =
    fwd || adjoint
      ? [g.inHeight, g.inWidth, g.outHeight, g.outWidth]
      : [g.outHeight, g.outWidth, g.inHeight, g.inWidth];
  const [top, left] = fwd || adjoint ? [g.padInfo.top, g.padInfo.left] : [2 - g.padInfo.top, 2 - g.padInfo.left];
  const np = (n + 7) & ~7;
  const u = rt.alloc((m + 2) ** 2 * round4(k) * np + np);
  rt.run([m === 4 ? OP.WINO4_FILTER : OP.WINO_FILTER, k, n, fwd ? 0 : adjoint ? 2 : 1, p.filter, p.bias, u], false);
  const tiles = adjoint
    ? winogradAdjointTiles(g, rt.workFloats, m, p.tiles)
    : winogradTiles(k, n, rt.workFloats, p.tiles ?? (m === 4 ? WINO4_TILES : WINO_TILES), m);
  const op = adjoint ? (m === 4 ? OP.WINO4_DX : OP.WINO_DX) : m === 4 ? OP.WINO4 : OP.WINO;
  rt.run(
    [
      op,
      g.batchSize,
      inH,
      inW,
      k,
      outH,
      outW,
      n,
      top,
      left,
      tiles,
      p.x,
      u,
      p.bias ? 1 : 0,
      p.relu ? 1 : 0,
      p.y,
      rt.workPtr,
    ],
    bigEnough(g.batchSize * outH * outW * k * 4),
  );
}

/** Called for runs of images [b0, b1) of a pass (conv2dAt: after the run's output is written, at
 *  `at`; conv2dFilterGradAt: before the run's dy is read), so a fused step can pool, or form dy, while
 *  the run's data is in cache. Passes that do not run by images call it once for the whole batch. A
 *  filter gradient's hook may return where it wrote the run's dy (else it is read at its place in dy). */
export type ImageRunHook = (b0: number, b1: number, at: number) => number | undefined;

/** Images per run for an ImageRunHook: the direct filter gradient's images per chunk (the batch in
 *  FILTER_CHUNKS; 8 of mnist-cnn's 26x26x32 outputs, 692 KB, fit a 1 MB L2) times the threads, so each
 *  run still gives every thread work. A run is a whole number of filter-gradient chunks. */
function fusedImages(rt: NativeRuntime, batch: number): number {
  return Math.ceil(batch / FILTER_CHUNKS) * Math.max(1, rt.threads);
}

/** [first image, images] of each run: fusedImages at a time when `byRuns`, else the whole batch at once. */
function imageRuns(rt: NativeRuntime, batch: number, byRuns: boolean): Array<[number, number]> {
  const run = byRuns ? fusedImages(rt, batch) : batch;
  const out: Array<[number, number]> = [];
  for (let b0 = 0; b0 < batch; b0 += run) out.push([b0, Math.min(run, batch - b0)]);
  return out;
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

/** Geometry words of a direct kernel's params block: batch, input h/w/c, output h/w/c, kernel, padding. */
function directWords(
  g: ConvGeometry,
  input: [number, number, number],
  output: [number, number, number],
  pad: [number, number],
): number[] {
  return [g.batchSize, ...input, ...output, g.filterHeight, g.filterWidth, ...pad];
}

/** directWords of the forward convolution (x → y) on `images` images: what the forward pass and the
 *  filter gradient run over. */
function forwardWords(g: ConvGeometry, images: number): number[] {
  return directWords(
    { ...g, batchSize: images },
    [g.inHeight, g.inWidth, g.inChannels],
    [g.outHeight, g.outWidth, g.outChannels],
    [g.padInfo.top, g.padInfo.left],
  );
}

/** The filter in dconv's layout (flip: the input gradient's), with the bias after it. */
function packFilter(rt: NativeRuntime, g: ConvGeometry, w: number, bias: number, flip: boolean): number {
  const lanes = round4(flip ? g.inChannels : g.outChannels);
  const rows = flip ? g.outChannels : g.inChannels;
  const packed = rt.alloc((g.filterHeight * g.filterWidth * rows + 1) * lanes);
  rt.run([OP.DCONV_PACK, g.filterHeight, g.filterWidth, g.inChannels, g.outChannels, +flip, w, bias, packed], false);
  return packed;
}

/** y[b, oy, ox, co] = Σ patches(x) · filter (+ bias) (relu). Returns the path taken. */
export function conv2d(
  rt: NativeRuntime,
  g: ConvGeometry,
  x: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  opts: ChunkOptions & { bias?: Float32Array | null; relu?: boolean } = {},
): ConvPath {
  const path = choosePath(rt, g, 'forward', opts.path);
  rt.reset();
  const xPtr = rt.input(x);
  const w = rt.input(filter);
  const bias = opts.bias ? rt.input(opts.bias) : 0;
  const y = rt.output(out);
  conv2dAt(
    rt,
    g,
    { x: xPtr, filter: w, bias, y: y.addr },
    { path, relu: opts.relu, chunkBytes: opts.chunkBytes, tiles: opts.tiles },
  );
  rt.deliver(y);
  return path;
}

/** Addresses in the runtime's memory (bias 0: none). */
export interface ConvForwardPtrs {
  x: number;
  filter: number;
  bias: number;
  y: number;
}

/** conv2d on addresses already resolved (a fused step's scratch); scratch it takes is released after. */
export function conv2dAt(
  rt: NativeRuntime,
  g: ConvGeometry,
  p: ConvForwardPtrs,
  opts: {
    path: ConvPath;
    relu?: boolean;
    chunkBytes?: number;
    tiles?: number;
    after?: ImageRunHook;
  },
): void {
  const { image, rows, kdim } = sizes(g);
  const mark = rt.mark();
  if (opts.path === 'winograd' || opts.path === 'winograd4') {
    winograd(rt, g, 'forward', { ...p, relu: opts.relu, tiles: opts.tiles }, opts.path === 'winograd4' ? 4 : 2);
    rt.resetTo(mark);
    opts.after?.(0, g.batchSize, p.y);
    return;
  }
  if (opts.path === 'direct') {
    const packed = packFilter(rt, g, p.filter, p.bias, false);
    // Images are independent: with `after`, runs of images, each followed by its hook while its output
    // is still in cache (the same values as one call).
    for (const [b0, n] of imageRuns(rt, g.batchSize, opts.after !== undefined)) {
      const y = p.y + b0 * rows * g.outChannels * 4;
      rt.run(
        [
          OP.DCONV,
          ...forwardWords(g, n),
          p.x + b0 * image * 4,
          packed,
          p.bias ? 1 : 0,
          opts.relu ? 1 : 0,
          y,
          rt.workPtr,
        ],
        bigEnough(n * rows * kdim),
      );
      opts.after?.(b0, b0 + n, y);
    }
    rt.resetTo(mark);
    return;
  }
  for (const [b0, b1] of imageChunks(g, opts.chunkBytes)) {
    rt.resetTo(mark);
    const n = b1 - b0;
    const patches = rt.alloc(n * rows * kdim);
    rt.run(convParams(OP.IM2COL, g, n, p.x + b0 * image * 4, patches), bigEnough(n * rows * kdim));
    gemm(rt, {
      m: n * rows,
      n: g.outChannels,
      k: kdim,
      transA: false,
      transB: false,
      aPtr: patches,
      bPtr: p.filter,
      cPtr: p.y + b0 * rows * g.outChannels * 4,
      biasPtr: p.bias,
      relu: opts.relu,
      accumulate: false,
    });
    opts.after?.(b0, b1, p.y + b0 * rows * g.outChannels * 4);
  }
  rt.resetTo(mark);
}

/** dFilter[kdim, cout] = patches(x)ᵀ · dy, accumulated over image chunks. Returns the path taken. */
export function conv2dFilterGrad(
  rt: NativeRuntime,
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  out: Float32Array,
  opts: ChunkOptions = {},
): ConvPath {
  const path = choosePath(rt, g, 'filter', opts.path);
  rt.reset();
  const xPtr = rt.input(x);
  const dyPtr = rt.input(dy);
  const df = rt.output(out);
  conv2dFilterGradAt(rt, g, xPtr, dyPtr, df.addr, { path, chunkBytes: opts.chunkBytes, tiles: opts.tiles });
  rt.deliver(df);
  return path;
}

/** conv2dFilterGrad on addresses already resolved; scratch it takes is released after. */
export function conv2dFilterGradAt(
  rt: NativeRuntime,
  g: ConvGeometry,
  xPtr: number,
  dyPtr: number,
  dfPtr: number,
  opts: { path: ConvPath; chunkBytes?: number; tiles?: number; before?: ImageRunHook },
): void {
  const { image, rows, kdim } = sizes(g);
  const mark = rt.mark();
  const images = Math.ceil(g.batchSize / FILTER_CHUNKS);
  // Runs of whole chunks, each after its hook (which writes that run's dy): only the direct path, and
  // only with channels a multiple of 4 (else the batch's last image is staged apart: see kernels.c
  // dconv_filter_chunk), so every chunk's partial sum is the one a single call makes.
  const runs = opts.before !== undefined && opts.path === 'direct' && g.outChannels % 4 === 0;
  if (opts.before && !runs) opts.before(0, g.batchSize, dyPtr);
  if (opts.path === 'winograd' || opts.path === 'winograd4') {
    winogradFilterGrad(rt, g, xPtr, dyPtr, dfPtr, opts.tiles, opts.path === 'winograd4' ? 4 : 2);
    rt.resetTo(mark);
    return;
  }
  if (opts.path === 'direct') {
    const chunks = Math.ceil(g.batchSize / images);
    const lanes = round4(g.outChannels);
    const partial = rt.alloc(chunks * kdim * lanes);
    for (const [b0, n] of imageRuns(rt, g.batchSize, runs)) {
      const at = runs ? opts.before!(b0, b0 + n, dyPtr + b0 * rows * g.outChannels * 4) : undefined;
      rt.run(
        [
          OP.DCONV_FILTER,
          ...forwardWords(g, n),
          xPtr + b0 * image * 4,
          typeof at === 'number' ? at : dyPtr + b0 * rows * g.outChannels * 4,
          partial + (b0 / images) * kdim * lanes * 4,
          images,
          rt.workPtr,
        ],
        bigEnough(n * rows * kdim),
      );
    }
    rt.run([OP.DCONV_SUM, chunks, kdim, g.outChannels, lanes, partial, dfPtr], false);
    rt.resetTo(mark);
    return;
  }
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
      cPtr: dfPtr,
      biasPtr: 0,
      accumulate: i > 0,
    });
  });
  rt.resetTo(mark);
}

/** dx = col2im(dy · filterᵀ); direct: dy, padded, convolved with the flipped filter. Returns the path taken. */
export function conv2dInputGrad(
  rt: NativeRuntime,
  g: ConvGeometry,
  dy: Float32Array,
  filter: Float32Array,
  out: Float32Array,
  opts: ChunkOptions = {},
): ConvPath {
  const path = choosePath(rt, g, 'input', opts.path);
  rt.reset();
  const dyPtr = rt.input(dy);
  const w = rt.input(filter);
  const dx = rt.output(out);
  conv2dInputGradAt(rt, g, dyPtr, w, dx.addr, { path, chunkBytes: opts.chunkBytes, tiles: opts.tiles });
  rt.deliver(dx);
  return path;
}

/** conv2dInputGrad on addresses already resolved; scratch it takes is released after. */
export function conv2dInputGradAt(
  rt: NativeRuntime,
  g: ConvGeometry,
  dyPtr: number,
  filterPtr: number,
  dxPtr: number,
  opts: { path: ConvPath; chunkBytes?: number; tiles?: number },
): void {
  const { image, rows, kdim } = sizes(g);
  const mark = rt.mark();
  const kind = winogradKind(opts.path);
  if (kind) {
    winograd(
      rt,
      g,
      'input',
      { x: dyPtr, filter: filterPtr, bias: 0, y: dxPtr, tiles: opts.tiles },
      kind.m,
      kind.adjoint,
    );
    rt.resetTo(mark);
    return;
  }
  if (opts.path === 'direct') {
    const packed = packFilter(rt, g, filterPtr, 0, true);
    rt.run(
      [
        OP.DCONV,
        ...directWords(
          g,
          [g.outHeight, g.outWidth, g.outChannels],
          [g.inHeight, g.inWidth, g.inChannels],
          [g.filterHeight - 1 - g.padInfo.top, g.filterWidth - 1 - g.padInfo.left],
        ),
        dyPtr,
        packed,
        0,
        0,
        dxPtr,
        rt.workPtr,
      ],
      bigEnough(g.batchSize * rows * kdim),
    );
    rt.resetTo(mark);
    return;
  }
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
      bPtr: filterPtr,
      cPtr: patches,
      biasPtr: 0,
      accumulate: false,
    });
    rt.run(convParams(OP.COL2IM, g, n, dxPtr + b0 * image * 4, patches), bigEnough(n * rows * kdim));
  }
  rt.resetTo(mark);
}

/** The path convolution `pass` takes in a runtime (convPath with its workspace), or `forced` when it fits. */
export function convPathFor(rt: NativeRuntime, g: ConvGeometry, pass: ConvPass, forced?: ConvPath): ConvPath {
  return choosePath(rt, g, pass, forced);
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
  maxPoolGradAt(rt, g, xPtr, dyPtr, dx.addr);
  rt.deliver(dx);
}

/** maxPoolGrad on addresses already resolved. */
export function maxPoolGradAt(rt: NativeRuntime, g: PoolGeometry, xPtr: number, dyPtr: number, dxPtr: number): void {
  rt.run(
    poolParams(OP.MAX_POOL_GRAD, g, xPtr, dyPtr, dxPtr),
    bigEnough(g.batchSize * g.inHeight * g.inWidth * g.inChannels),
  );
}

/** maxPoolGradAt from the window positions maxPoolAt recorded at argPtr (a poolTiles geometry): the
 *  same dx without reading the pooled input again. */
export function maxPoolGradArgAt(
  rt: NativeRuntime,
  g: PoolGeometry,
  argPtr: number,
  dyPtr: number,
  dxPtr: number,
): void {
  if (!poolTiles(g))
    throw new Error('maxPoolGradArgAt: windows must tile the image (stride = window, no padding, 4+ channels)');
  rt.run(
    poolParams(OP.MAX_POOL_GRAD_ARG, g, argPtr, dyPtr, dxPtr),
    bigEnough(g.batchSize * g.inHeight * g.inWidth * g.inChannels),
  );
}

function poolParams(op: number, g: PoolGeometry, xPtr: number, dyPtr: number, outPtr: number): number[] {
  return [
    op,
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
    outPtr,
  ];
}

/** Whether the tiled kernels (forward and gradient) take this geometry: windows that tile the image
 *  (stride = window, no padding) and at least 4 channels. */
export function poolTiles(g: PoolGeometry): boolean {
  return (
    g.strideHeight === g.filterHeight &&
    g.strideWidth === g.filterWidth &&
    g.padInfo.top === 0 &&
    g.padInfo.left === 0 &&
    g.inChannels >= 4 &&
    g.outHeight * g.filterHeight <= g.inHeight &&
    g.outWidth * g.filterWidth <= g.inWidth
  );
}

/** Whether max pooling with this geometry takes the tiled forward kernel (maxPool) as a tfjs kernel:
 *  poolTiles with channels a multiple of 4 (with 10 channels XNNPACK's pool measured faster: 0.85 vs
 *  1.3 ms for [256,24,24,10]). maxPoolGrad's tiled path (kernels.c) takes any channel count from 4 on:
 *  1.05 ms there against the general path's 3.0. */
export function poolIsTiled(g: PoolGeometry): boolean {
  return poolTiles(g) && g.inChannels % 4 === 0;
}

/** Max pooling for a tiled geometry (poolIsTiled): the first maximum of each window. */
export function maxPool(rt: NativeRuntime, g: PoolGeometry, x: Float32Array, out: Float32Array): void {
  if (!poolIsTiled(g))
    throw new Error('maxPool: windows must tile the image (stride = window, no padding, channels % 4 = 0)');
  rt.reset();
  const xPtr = rt.input(x);
  const y = rt.output(out);
  maxPoolAt(rt, g, xPtr, y.addr);
  rt.deliver(y);
}

/** Max pooling on addresses already resolved, for any geometry poolTiles takes; with argPtr, one byte per
 *  output element also records its maximum's window position (for maxPoolGradArgAt). */
export function maxPoolAt(rt: NativeRuntime, g: PoolGeometry, xPtr: number, yPtr: number, argPtr = 0): void {
  if (!poolTiles(g))
    throw new Error('maxPoolAt: windows must tile the image (stride = window, no padding, 4+ channels)');
  rt.run(
    poolParams(OP.MAX_POOL, { ...g, padInfo: { top: 0, left: 0 } }, xPtr, argPtr, yPtr),
    bigEnough(g.batchSize * g.inHeight * g.inWidth * g.inChannels),
  );
}

/** out[r, c] = act(x[r, c] + bias[c]) for x viewed as [rows, cols]; bias optional, act linear or relu;
 *  `combine` makes it x · v, x − v or v − x instead (no relu then). */
export function biasAct(
  rt: NativeRuntime,
  x: Float32Array,
  bias: Float32Array | null,
  cols: number,
  relu: boolean,
  out: Float32Array,
  combine: ChannelOp = 'add',
): void {
  rt.reset();
  const xPtr = rt.input(x);
  const b = bias ? rt.input(bias) : 0;
  const o = rt.output(out);
  const mode = CHANNEL_OPS.indexOf(combine);
  rt.run([OP.BIAS_ACT, x.length / cols, cols, xPtr, b, o.addr, relu ? 1 : 0, mode], bigEnough(x.length));
  rt.deliver(o);
}

/** How BIAS_ACT combines x with the per-channel vector v: x + v, x · v, x − v, v − x (kernels.c COMBINE_*). */
const CHANNEL_OPS = ['add', 'mul', 'sub', 'rsub'] as const;
export type ChannelOp = (typeof CHANNEL_OPS)[number];

/** out[r, c] = offset[c] + (x[r, c] − mean[c])·scale[c] / factor[c] for x viewed as [rows, cols]. */
export function batchNorm(
  rt: NativeRuntime,
  x: Float32Array,
  channels: { mean: Float32Array; scale: Float32Array; factor: Float32Array; offset: Float32Array },
  out: Float32Array,
): void {
  const cols = channels.mean.length;
  rt.reset();
  // x and out first: on tfjs's heap they are used in place, and the per-channel arrays' staging may
  // grow that heap, which detaches views taken before.
  const xPtr = rt.input(x);
  const o = rt.output(out);
  const [mean, scale, factor, offset] = [channels.mean, channels.scale, channels.factor, channels.offset].map((a) =>
    rt.input(a),
  );
  rt.run([OP.BATCH_NORM, x.length / cols, cols, xPtr, mean!, scale!, factor!, offset!, o.addr], bigEnough(x.length));
  rt.deliver(o);
}

/**
 * The gradient of batchNorm for per-channel moments (kernels.c batch_norm_grad): dx, and into `sums`
 * [4, cols] the column sums for the mean, variance, scale and offset. `channels` holds rstd = 1/√(var + ε),
 * nrstd = −rstd, mhrc = rstd³·(−0.5) and the scale (ones when the layer has none). With `throughMoments`
 * (batch_norm_train_grad), dx is the whole gradient of batchNorm on x's own batch moments, and `sums` is
 * [7, cols] (its first four as without).
 */
export function batchNormGrad(
  rt: NativeRuntime,
  x: Float32Array,
  dy: Float32Array,
  channels: { mean: Float32Array; scale: Float32Array; rstd: Float32Array; nrstd: Float32Array; mhrc: Float32Array },
  dx: Float32Array,
  sums: Float32Array,
  throughMoments = false,
): void {
  const cols = channels.mean.length;
  rt.reset();
  // The tensors first (in place on tfjs's heap), then what is staged (its allocations may grow the heap).
  const xPtr = rt.input(x);
  const dyPtr = rt.input(dy);
  const o = rt.output(dx);
  const s = rt.output(sums);
  const [mean, scale, rstd, nrstd, mhrc] = [
    channels.mean,
    channels.scale,
    channels.rstd,
    channels.nrstd,
    channels.mhrc,
  ].map((a) => rt.input(a));
  const op = throughMoments ? OP.BATCH_NORM_TRAIN_GRAD : OP.BATCH_NORM_GRAD;
  rt.run([op, x.length / cols, cols, xPtr, dyPtr, mean!, scale!, rstd!, nrstd!, mhrc!, o.addr, s.addr], false);
  rt.deliver(o);
  rt.deliver(s);
}

/** Batch moments over the rows of x viewed as [rows, cols] (kernels.c batch_moments): out = [mean, variance]. */
export function batchMoments(rt: NativeRuntime, x: Float32Array, cols: number, out: Float32Array): void {
  rt.reset();
  const xPtr = rt.input(x);
  const o = rt.output(out);
  rt.run([OP.BATCH_MOMENTS, x.length / cols, cols, xPtr, o.addr], false);
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

/** Bytes staged per call of bytesAffine (rows of the source copied into the runtime's memory). */
const BYTES_CHUNK = 4 << 20;

/**
 * out (byte address, rows × cols float32) = x · a + b per feature, in double, rounded to float32 once
 * (data/normalize.ts's map, the same bits); `a` and `b` have cols values (`shared`: all the same). The
 * bytes go through the runtime's memory BYTES_CHUNK at a time, so scratch stays small.
 */
export function bytesAffine(
  rt: NativeRuntime,
  x: Uint8Array,
  rows: number,
  cols: number,
  map: { a: Float64Array; b: Float64Array; shared: boolean },
  out: number,
): void {
  const { shared } = map;
  const len = shared ? 1 : cols;
  const mark = rt.mark();
  try {
    const a = rt.alloc(2 * len);
    const b = rt.alloc(2 * len);
    const chunkRows = Math.max(1, Math.floor(BYTES_CHUNK / Math.max(cols, 1)));
    const staged = rt.alloc(Math.ceil((Math.min(rows, chunkRows) * cols + 4) / 4));
    rt.viewF64(a, len).set(map.a.subarray(0, len));
    rt.viewF64(b, len).set(map.b.subarray(0, len));
    for (let r = 0; r < rows; r += chunkRows) {
      const n = Math.min(chunkRows, rows - r);
      rt.viewBytes(staged, n * cols).set(x.subarray(r * cols, (r + n) * cols));
      rt.run([OP.BYTES_AFFINE, n, cols, staged, a, b, shared ? 1 : 0, out + 4 * r * cols], false);
    }
  } finally {
    rt.resetTo(mark);
  }
}

/** out = dy · step(x): the relu gradient in one pass (tfjs takes three: step, cast, multiply). */
export function reluGrad(rt: NativeRuntime, dy: Float32Array, x: Float32Array, out: Float32Array): void {
  maskGrad(rt, OP.RELU_MASK, dy, x, out);
}

/** out = dy · (x · 2): the square gradient in one pass (tfjs takes three: cast, two multiplies). */
export function squareGrad(rt: NativeRuntime, dy: Float32Array, x: Float32Array, out: Float32Array): void {
  maskGrad(rt, OP.SQUARE_GRAD, dy, x, out);
}

function maskGrad(rt: NativeRuntime, op: number, dy: Float32Array, x: Float32Array, out: Float32Array): void {
  rt.reset();
  const dyPtr = rt.input(dy);
  const xPtr = rt.input(x);
  const o = rt.output(out);
  rt.run([op, out.length, dyPtr, xPtr, o.addr], false);
  rt.deliver(o);
}
