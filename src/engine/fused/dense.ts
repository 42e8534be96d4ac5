// A whole single-task training step of a plain MLP (Dense layers with relu or linear activations,
// softmax cross-entropy, optional L1/L2 penalty, Adam) as ONE tfjs kernel on the wasm backend. Through
// tfjs the same step is ~85 kernel dispatches (tape, tidy, elementwise ops) costing more than its two
// big gemms; here it is a dozen native calls on scratch memory: gather the batch, forward, loss,
// backward, penalty, Adam. tfjs's gemms, Adam and relu gradient are reproduced operation for
// operation, so the numbers are the generic path's up to float rounding (own exp/log, and the order
// of the loss and penalty sums). A sparse batch (MNIST pixels are ~80% zeros) takes the first layer's
// two gemms as sparse products, which skip the zeros and give the same bits as the dense gemms.
// Inputs that are an affine map of sparse data (standardized pixels, many tabular columns) have no
// zeros but a background: per feature j most rows hold one value m_j (findBackground finds it once
// per training tensor). Then the batch is compressed as S = x − 1·mᵀ (exact zeros where x equals m)
// and the products get rank-1 corrections: x·W + b = S·W + (b + mᵀW), and xᵀ·dz = Sᵀ·dz + m·(1ᵀdz)
// with 1ᵀdz the bias gradient. Those round differently from the dense gemms (within float
// tolerance); where every m_j is 0 it is exactly the plain sparse path. Either sparse form is used
// for a batch with at most fusedDenseTuning.maxSparseDensity of S nonzero, else the dense gemms.
//
// What stays tfjs's: the weights are still the layers' variables and the moments are still the
// AdamOptimizer's own accumulatedFirstMoment/SecondMoment variables (created lazily the way tfjs does,
// β-powers and the iteration count advanced the same way), so checkpoints with optimizer state and
// resuming cannot tell which path trained. Weights, moments and β-powers are updated in place unless
// another tensor shares their memory (a clone kept as the best weights): then the kernel makes a new
// tensor that is assign()ed (step-state.ts).

import { tf } from '../backend/tf.ts';
import { countKernelCall } from '../kernels/calls.ts';
import type { KernelArgs, TensorInfo, WasmBackendLike } from '../kernels/utils.ts';
import { OP } from '../native/op-codes.ts';
import { gemm } from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { f32Bits } from './adam.ts';
import { type RowCache, rowCache } from './row-cache.ts';
import {
  type AdamConstants,
  applyState,
  fusedEnabled,
  runAdam,
  stateInputs,
  stateOperands,
  stateOutputs,
  type TrainedParam,
  trainedParams,
} from './step-state.ts';

const KERNEL = 'MtlDenseStep';
/** kernelCalls counters of the steps whose first layer took the sparse products: plain (x itself
 *  compressed) and with a background (x − 1·mᵀ compressed, plus the rank-1 corrections). */
export const SPARSE_PATH = 'MtlDenseStep:sparse';
export const BACKGROUND_PATH = 'MtlDenseStep:background';
/** kernelCalls counters of the runtime a step ran on: the worker threads' or the backend's heap. */
export const THREADED_PATH = 'MtlDenseStep:threads';
export const HEAP_PATH = 'MtlDenseStep:heap';
/** kernelCalls counter of the batch rows whose compressed entries were copied from the row cache
 *  (row-cache.ts) rather than compressed from x. */
export const CACHED_ROWS = 'MtlDenseStep:cachedRows';

/**
 * The first layer's gemms skip the batch's zeros when at most this fraction of it is nonzero
 * (MNIST pixels: ~19%). Either way the results are the same bits (kernels.c spmm), so this only
 * decides speed; tests lower it to compare the two.
 */
export const fusedDenseTuning = {
  maxSparseDensity: 0.5,
  /**
   * Multiply-adds per step (batch × Σ inputs·units, as if dense) from which a step runs on the worker
   * threads, when there are any (MTL_THREADS > 1); a smaller one runs on one thread on the backend's
   * own heap, because the hand-offs and the copies into and out of the threads' shared memory cost it
   * more than they save. Measured with 2 threads on the 2-vCPU VM, s/epoch on the heap vs threaded:
   * 13 M (mnist-mlp) 0.36–0.39 vs 0.50–0.57, 52 M 0.52–0.58 vs 0.76–0.81, 104 M 0.54–0.56 vs
   * 0.53–0.55 (a tie), 171 M 0.73–0.77 vs 0.56–0.60, 476 M 2.40–2.46 vs 1.51–1.63 (bench/RESULTS.md).
   * The same bits either way.
   */
  threadedMacs: 128e6,
  /** Keep each training row's compressed entries for later batches (row-cache.ts); tests turn it off
   *  to compare. The same bits either way. */
  rowCache: true,
};

/** What a param group is to the fused step (classifier.ts's ParamGroup without the engine importing it). */
export interface FusedGroup {
  layers: tf.layers.Layer[];
  optimizer: tf.Optimizer;
  lrScale: number;
}

interface DenseInternals {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
}

/** One Dense layer of the chain, input to logits. */
interface DensePlan {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  relu: boolean;
  inputs: number;
  units: number;
}

export interface FusedDensePlan {
  layers: DensePlan[];
  params: TrainedParam[];
  groups: FusedGroup[];
  l1: number;
  l2: number;
  /** Per feature, the value the first layer's sparse products treat as background (see findBackground),
   *  or null when that is 0 for every feature (the plain sparse path). */
  background: Float32Array | null;
  /** The fraction of x off that background (findBackground's estimate): above maxSparseDensity no batch
   *  is compressed at all. */
  density: number;
}

export interface FusedPlanOptions {
  /** The preloaded training examples [n, features] and int32 labels [n]. */
  x: tf.Tensor;
  y: tf.Tensor;
  numClasses: number;
  regularization: { l1: number; l2: number };
}

/**
 * The plan of a fused step for `model` trained by `groups`, or null when anything is outside what the
 * kernel does (then the caller takes the generic tfjs path): a backend other than wasm, a layer other
 * than Dense (relu or linear), Flatten or rate-0 Dropout before `head_softmax`, an optimizer other than
 * Adam (or one shared by two groups), a weight in a group that is not one of those Dense layers', no
 * weight to train, or MTL_FUSED=0.
 */
export function planFusedDense(
  model: tf.LayersModel,
  groups: FusedGroup[],
  o: FusedPlanOptions,
): FusedDensePlan | null {
  if (!fusedEnabled() || tf.getBackend() !== 'wasm' || !tf.getKernel(KERNEL, 'wasm')) return null;
  if (o.x.dtype !== 'float32' || o.x.rank !== 2 || o.y.dtype !== 'int32' || o.y.rank !== 1) return null;
  const layers = denseChain(model, o.x.shape[1]!);
  if (!layers || layers.length === 0 || layers[layers.length - 1]!.units !== o.numClasses) return null;
  const params = trainedParams(layers, groups);
  if (!params) return null;
  const { values: background, density } = findBackground(o.x);
  return { layers, params, groups, l1: o.regularization.l1, l2: o.regularization.l2, background, density };
}

/** What findBackground found: the background (null when all 0) and the fraction of the scanned
 *  entries of x that differ from it, and from 0. */
export interface BackgroundScan {
  values: Float32Array | null;
  density: number;
  zeroDensity: number;
}

const backgrounds = new WeakMap<tf.Tensor, BackgroundScan>();
/** Rows findBackground reads (evenly spaced over x). */
export const BACKGROUND_SAMPLE = 4096;

/**
 * Per feature j of x [n, features], the value m_j that the most rows hold exactly, when it is held by
 * more rows than 0 is and by more than one (else 0). The candidates are the column's minimum and
 * maximum (a standardized pixel's black: the minimum) and the winner of a majority vote over the rows
 * (Boyer-Moore: the most frequent value whenever one holds more than half the rows); a second pass
 * counts the rows equal to each candidate and to 0. The first layer then multiplies the batch as
 * S = x − 1·mᵀ (exact zeros where x equals m) plus rank-1 corrections, so a dataset that is an affine
 * map of sparse data takes the sparse products. Both passes read BACKGROUND_SAMPLE evenly spaced rows
 * (all of MNIST's 54,000 took ~0.6 s, the sample ~40 ms; m is an exact value of x either way, and
 * each batch counts its own nonzeros); once per tensor (cached).
 */
export function findBackground(x: tf.Tensor): BackgroundScan {
  const cached = backgrounds.get(x);
  if (cached) return cached;
  const [total, f] = x.shape as [number, number];
  const n = Math.min(total, BACKGROUND_SAMPLE);
  const rowOf = (i: number): number => Math.floor((i * total) / n);
  const xs = featureValues(x);
  const vote = new Float32Array(f);
  const votes = new Int32Array(f);
  const min = new Float32Array(f).fill(Number.POSITIVE_INFINITY);
  const max = new Float32Array(f).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    const row = rowOf(i) * f;
    for (let j = 0; j < f; j++) {
      const v = xs[row + j]!;
      if (votes[j] === 0) {
        vote[j] = v;
        votes[j] = 1;
      } else if (vote[j] === v) votes[j]!++;
      else votes[j]!--;
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
    }
  }
  const candidates = [vote, min, max];
  const counts = candidates.map(() => new Int32Array(f));
  const zeros = new Int32Array(f);
  const [byVote, byMin, byMax] = counts as [Int32Array, Int32Array, Int32Array];
  for (let i = 0; i < n; i++) {
    const row = rowOf(i) * f;
    for (let j = 0; j < f; j++) {
      const v = xs[row + j]!;
      byVote[j]! += v === vote[j] ? 1 : 0;
      byMin[j]! += v === min[j] ? 1 : 0;
      byMax[j]! += v === max[j] ? 1 : 0;
      zeros[j]! += v === 0 ? 1 : 0;
    }
  }
  const values = new Float32Array(f);
  let other = 0;
  let nonzero = 0;
  for (let j = 0; j < f; j++) {
    // 0 wins ties (and is the plain sparse path); a candidate of ±0 is 0.
    let held = zeros[j]!;
    candidates.forEach((c, k) => {
      const count = counts[k]![j]!;
      if (count > held && count > 1 && c[j] !== 0) {
        held = count;
        values[j] = c[j]!;
      }
    });
    other += n - held;
    nonzero += n - zeros[j]!;
  }
  const cells = Math.max(1, n * f);
  const scan = {
    values: values.some((v) => v !== 0) ? values : null,
    density: other / cells,
    zeroDensity: nonzero / cells,
  };
  backgrounds.set(x, scan);
  return scan;
}

/** x's values: a view of the wasm heap where x lives there (no copy of a large dataset), else a copy. */
function featureValues(x: tf.Tensor): Float32Array {
  try {
    return (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(x as unknown as TensorInfo) as Float32Array;
  } catch {
    return x.dataSync() as Float32Array;
  }
}

/** The Dense layers forwardLogits (classifier.ts) would run, or null if it would run anything else. */
function denseChain(model: tf.LayersModel, features: number): DensePlan[] | null {
  const chain: DensePlan[] = [];
  let width = features;
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') continue;
    if (layer.name === 'head_softmax') break;
    const config = layer.getConfig();
    if (kind === 'Flatten' || (kind === 'Dropout' && config.rate === 0)) continue; // identities on [batch, features]
    if (kind !== 'Dense') return null;
    const { kernel, bias } = layer as unknown as DenseInternals;
    const activation = config.activation;
    if (activation !== 'relu' && activation !== 'linear') return null;
    if (kernel.dtype !== 'float32' || kernel.shape.length !== 2 || kernel.shape[0] !== width) return null;
    if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== kernel.shape[1])) return null;
    chain.push({ kernel, bias, relu: activation === 'relu', inputs: width, units: kernel.shape[1]! });
    width = kernel.shape[1]!;
  }
  return chain;
}

interface StepAttrs {
  plan: FusedDensePlan;
  index: Int32Array;
  adam: AdamConstants[];
  /** HostState.inPlace: the state tensors the kernel updates where they lie. */
  inPlace: boolean[];
}

/**
 * One step on the batch `index` (rows of x/y) at each group optimizer's current learning rate (the
 * caller sets them, × lrScale). Returns the batch's mean loss (penalty included) and correct count.
 */
export function fusedDenseStep(
  plan: FusedDensePlan,
  x: tf.Tensor,
  y: tf.Tensor,
  index: Int32Array,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const inputs: Record<string, tf.Tensor> = { x, y };
  const state = stateInputs(plan, inputs);
  const attrs: StepAttrs = { plan, index, adam: state.adam, inPlace: state.inPlace };
  const outs = tf.engine().runKernel(KERNEL, inputs as never, attrs as never) as tf.Tensor[];
  applyState(state, outs, 2);
  return { loss: outs[0] as tf.Scalar, correct: outs[1] as tf.Scalar };
}

/** Register the kernel for the wasm backend: inputs {x, y, w_i, b_i, m_j, v_j, accBeta1_g, accBeta2_g}, outputs
 *  [loss, correct, (x', m', v') per param, (accBeta1', accBeta2') per group]. */
export function registerFusedDense(runtime: (backend: unknown, threaded: boolean) => NativeRuntime): void {
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      countKernelCall(KERNEL);
      const { plan, index } = args.attrs as unknown as StepAttrs;
      let macs = 0;
      for (const l of plan.layers) macs += index.length * l.inputs * l.units;
      const rt = runtime(args.backend, macs >= fusedDenseTuning.threadedMacs);
      countKernelCall(rt.zeroCopy ? HEAP_PATH : THREADED_PATH);
      return denseStepKernel(rt, args);
    },
  });
}

function denseStepKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { plan, index, adam, inPlace } = attrs as unknown as StepAttrs;
  const ins = inputs as Record<string, TensorInfo>;
  const wasm = backend as WasmBackendLike;
  const view = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  const { layers, params } = plan;
  const rows = index.length;
  const features = layers[0]!.inputs;
  const classes = layers[layers.length - 1]!.units;

  // The row cache and the outputs first: making them may grow the heap. From here on only addresses
  // (numbers) are kept.
  const cache =
    rt.zeroCopy &&
    fusedDenseTuning.rowCache &&
    plan.density <= fusedDenseTuning.maxSparseDensity &&
    features <= MAX_CACHED_FEATURES
      ? rowCache(wasm, ins.x!, plan.background, plan.density)
      : null;
  const lossOut = wasm.makeOutput([], 'float32');
  const correctOut = wasm.makeOutput([], 'float32');
  const state = stateOutputs(wasm, ins, params, adam, inPlace);
  rt.reset();
  const ops = stateOperands(rt, wasm, ins, plan, state);
  const { weight, bias } = ops;
  const loss = rt.output(view(lossOut));
  const correct = rt.output(view(correctOut));
  const background = plan.background ? rt.input(plan.background) : 0;

  // Scratch: the batch, each layer's output (kept for the backward pass), two gradient buffers, one
  // gradient per trained weight.
  const h = [rt.alloc(rows * features)];
  let widest = 0;
  for (const l of layers) {
    h.push(rt.alloc(rows * l.units));
    widest = Math.max(widest, l.units);
  }
  const labels = rt.alloc(rows);
  let dz = rt.alloc(rows * widest);
  let dzBelow = rt.alloc(rows * widest);
  // Per layer, the scratch of its weight's and bias's gradients (null: not trained).
  const grad: number[] = [];
  const kernelGrad: (number | null)[] = layers.map(() => null);
  const biasGrad: (number | null)[] = layers.map(() => null);
  for (const p of params) {
    const l = layers[p.layer]!;
    const at = rt.alloc(p.isKernel ? l.inputs * l.units : l.units);
    grad.push(at);
    (p.isKernel ? kernelGrad : biasGrad)[p.layer] = at;
  }
  // With a background m: the first layer's bias + mᵀW, and dz's column sums (for m · 1ᵀdz).
  const shiftedBias = background ? rt.alloc(layers[0]!.units) : 0;
  const columnSums = background ? rt.alloc(layers[0]!.units) : 0;
  const sparse = gatherBatch(rt, wasm, ins.x!, ins.y!, index, features, h[0]!, labels, background, plan.density, cache);
  if (sparse) countKernelCall(background ? BACKGROUND_PATH : SPARSE_PATH);

  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (i === 0 && sparse) {
      // x·W + b = S·W + (b + mᵀW), S = x − 1·mᵀ.
      let b = bias[0]!;
      if (background) {
        rt.run([OP.VEC_MAT, features, l.units, background, weight[0]!, b, shiftedBias], false);
        b = shiftedBias;
      }
      spmm(rt, sparse.byRows, rows, l.units, features, weight[0]!, h[1]!, b, l.relu);
      continue;
    }
    gemm(rt, {
      m: rows,
      n: l.units,
      k: l.inputs,
      transA: false,
      transB: false,
      aPtr: h[i]!,
      bPtr: weight[i]!,
      cPtr: h[i + 1]!,
      biasPtr: bias[i]!,
      relu: l.relu,
      accumulate: false,
    });
  }
  rt.run(
    [OP.SOFTMAX_XENT, rows, classes, h[layers.length]!, labels, dz, f32Bits(1 / rows), loss.addr, correct.addr],
    false,
  );

  // Backward from the logits down to the lowest layer with a trained weight (none below it: no dX
  // for the first layer, nothing at all under a frozen backbone).
  let lowest = layers.length;
  for (const p of params) lowest = Math.min(lowest, p.layer);
  for (let i = layers.length - 1; i >= lowest; i--) {
    const l = layers[i]!;
    const dW = kernelGrad[i] ?? null;
    const db = biasGrad[i] ?? null;
    if (db !== null) rt.run([OP.COLUMN_SUM, rows, l.units, dz, db], false);
    if (dW !== null && i === 0 && sparse) {
      // xᵀ·dz = Sᵀ·dz + m · (1ᵀdz): the column sums are the bias gradient (or scratch when it has none).
      let sums = 0;
      if (background) {
        sums = db ?? columnSums;
        if (db === null) rt.run([OP.COLUMN_SUM, rows, l.units, dz, sums], false);
      }
      spmm(rt, sparse.byColumns, l.inputs, l.units, rows, dz, dW, 0, false, background, sums);
    } else if (dW !== null) {
      gemm(rt, {
        m: l.inputs,
        n: l.units,
        k: rows,
        transA: true,
        transB: false,
        aPtr: h[i]!,
        bPtr: dz,
        cPtr: dW,
        biasPtr: 0,
        accumulate: false,
      });
    }
    if (i === lowest) break;
    gemm(rt, {
      m: rows,
      n: l.inputs,
      k: l.units,
      transA: false,
      transB: true,
      aPtr: dz,
      bPtr: weight[i]!,
      cPtr: dzBelow,
      biasPtr: 0,
      accumulate: false,
    });
    if (layers[i - 1]!.relu) rt.run([OP.RELU_MASK, rows * l.inputs, dzBelow, h[i]!, dzBelow], false);
    [dz, dzBelow] = [dzBelow, dz];
  }
  if (plan.l1 > 0 || plan.l2 > 0) {
    params.forEach((p, j) => {
      if (!p.isKernel) return;
      const l = layers[p.layer]!;
      rt.run(
        [OP.PENALTY, l.inputs * l.units, weight[p.layer]!, grad[j]!, f32Bits(plan.l1), f32Bits(plan.l2), loss.addr],
        false,
      );
    });
  }

  runAdam(rt, plan, state, ops, (p, j) => {
    const l = layers[p.layer]!;
    return { at: grad[j]!, size: p.isKernel ? l.inputs * l.units : l.units };
  });
  rt.deliver(loss);
  rt.deliver(correct);
  for (const t of ops.targets) rt.deliver(t);
  return [lossOut, correctOut, ...state.outputs];
}

/** A matrix compressed along its K dimension: ptr [rows + 1] into idx/vals. */
interface Compressed {
  ptr: number;
  idx: number;
  vals: number;
}

/** c[rows, n] = a · b (+ u · vᵀ) (+ bias) (relu), a compressed by rows over k, b dense [k, n], u [rows]
 *  and v [n] (or 0: no such term). */
function spmm(
  rt: NativeRuntime,
  a: Compressed,
  rows: number,
  n: number,
  k: number,
  b: number,
  c: number,
  bias: number,
  relu: boolean,
  u = 0,
  v = 0,
): void {
  const segments = rt.alloc(2 * rows);
  rt.run(
    [OP.SPMM, rows, n, k, a.ptr, a.idx, a.vals, b, n, c, n, bias, relu ? 1 : 0, segments, u, v],
    rows * n * k >= 1 << 22,
  );
}

/** The row cache keeps column indices as uint16. */
const MAX_CACHED_FEATURES = 65536;

interface SparseBatch {
  byRows: Compressed;
  byColumns: Compressed;
}

/**
 * The batch's rows of labels into scratch, and either x − 1·backgroundᵀ (x itself when background is
 * 0) compressed by rows and by columns, or when that is too dense (null returned) x's rows, dense at
 * xDst. A dataset denser than maxSparseDensity (`density`) is only gathered. Natively from tfjs's heap
 * when the kernels run on it (one thread; the dense rows are only written when needed); with worker
 * threads the rows are first copied into their shared memory.
 */
function gatherBatch(
  rt: NativeRuntime,
  wasm: WasmBackendLike,
  x: TensorInfo,
  y: TensorInfo,
  index: Int32Array,
  features: number,
  xDst: number,
  yDst: number,
  background: number,
  density: number,
  cache: RowCache | null,
): SparseBatch | null {
  const n = x.shape[0]!;
  const rows = index.length;
  for (const r of index)
    if (!(r >= 0 && r < n)) throw new Error(`fused dense step: the row index ${r} is not in [0, ${n - 1}]`);
  const compress = density <= fusedDenseTuning.maxSparseDensity;
  const maxNnz = compress ? Math.floor(fusedDenseTuning.maxSparseDensity * rows * features) : 0;
  const nnz = rt.alloc(1);
  // Four spare slots: kernels.c stores each quad's compacted values whole.
  const byRows = { ptr: rt.alloc(rows + 1), idx: rt.alloc(maxNnz + 4), vals: rt.alloc(maxNnz + 4) };
  const byColumns = { ptr: rt.alloc(features + 1), idx: rt.alloc(maxNnz), vals: rt.alloc(maxNnz) };
  const at = rt.zeroCopy ? rt.alloc(rows) : 0;
  // Views after the last alloc (which may grow tfjs's heap and detach earlier ones).
  const xs = wasm.typedArrayFromHeap(x) as Float32Array;
  const ys = wasm.typedArrayFromHeap(y) as Int32Array;
  let src = 0;
  if (rt.zeroCopy) {
    rt.viewI32(at, rows).set(index);
    src = xs.byteOffset;
    rt.run([OP.GATHER_ROWS, rows, 1, ys.byteOffset, at, yDst], false);
  } else {
    const dst = rt.view(xDst, rows * features);
    const labels = rt.viewI32(yDst, rows);
    index.forEach((r, i) => {
      dst.set(xs.subarray(r * features, (r + 1) * features), i * features);
      labels[i] = ys[r]!;
    });
    src = xDst;
  }
  const gatherRows = (): void => {
    if (rt.zeroCopy) rt.run([OP.GATHER_ROWS, rows, features, src, at, xDst], false);
  };
  if (!compress) {
    gatherRows();
    return null;
  }
  rt.run(
    [
      OP.SPARSIFY,
      rows,
      features,
      src,
      at,
      0,
      maxNnz,
      nnz,
      byRows.ptr,
      byRows.idx,
      byRows.vals,
      byColumns.ptr,
      byColumns.idx,
      byColumns.vals,
      background,
      ...(cache
        ? [cache.rowTable, cache.cols, cache.vals, cache.capacity, cache.used, cache.hits]
        : [0, 0, 0, 0, 0, 0]),
    ],
    false,
  );
  if (cache) countKernelCall(CACHED_ROWS, rt.viewI32(cache.hits, 1)[0]!);
  if (rt.viewI32(nnz, 1)[0]! <= maxNnz) return { byRows, byColumns };
  gatherRows();
  return null;
}
