// A whole training step of a small convnet, single-task or multi-task with hard parameter sharing, as
// ONE tfjs kernel on the wasm backend (the CNN counterpart of dense.ts). Through tfjs a MultiLeNet
// step is ~250 kernel dispatches plus the tape and tidy bookkeeping and separate elementwise passes
// (bias, relu, their gradients, bias-gradient sums); here it is a few dozen native calls on scratch
// memory: gather the batch, conv blocks (convolution with bias and relu fused, 2×2 max-pool), Flatten,
// Dense layers, then per task its Dense head, softmax cross-entropy (scaled by the task's fixed
// weight), and back down: head gradients summed into the shared representation, pool and relu
// gradients, filter and bias gradients, input gradients of every conv but the first, then Adam.
// A second kernel (MtlCnnTaskGrads, fusedTaskGradients) serves the gradient methods (PCGrad, CAGrad,
// GradNorm, MGDA on the parameters): the same forward once, then per task its head's and the trunk's
// backward from that task's unweighted loss alone, returning each task's gradients and updating nothing.
//
// The network: Conv2D blocks (NHWC, stride 1, no dilation, relu or linear, with or without bias, each
// optionally followed by a max-pool whose windows tile the image and that has ≥ 4 channels), Flatten,
// Dense layers (relu or linear), rate-0 Dropout; then one head (single task: the rest of the model up
// to `head_softmax`) or several task heads of Dense layers. The convolutions take the same path
// (direct, Winograd or im2col + sgemm) as the generic kernels would (ops.ts convPath).
//
// Numbers: the same operations as the generic path, up to float rounding (summation orders of the
// bias gradients and of the head gradients into the shared representation; own exp/log in the loss).
// State: as dense.ts, the weights stay the layers' variables and the moments the AdamOptimizer's own
// (created lazily with tfjs's names; β-powers and iteration count advanced the same way), so
// checkpoints and resume cannot tell which path trained; in place unless shared (step-state.ts).

import { tf } from '../backend/tf.ts';
import { countKernelCall } from '../kernels/calls.ts';
import { heapAddress, type KernelArgs, type TensorInfo, type WasmBackendLike } from '../kernels/utils.ts';
import { OP } from '../native/op-codes.ts';
import {
  type ConvGeometry,
  type ConvPath,
  conv2dAt,
  conv2dFilterGradAt,
  conv2dInputGradAt,
  convPathFor,
  gemm,
  maxPoolAt,
  maxPoolGradArgAt,
  type PoolGeometry,
  poolTiles,
} from '../native/ops.ts';
import type { NativeRuntime } from '../native/runtime.ts';
import { f32Bits } from './adam.ts';
import type { FusedGroup } from './dense.ts';
import {
  type AdamConstants,
  applyState,
  fusedEnabled,
  inputName,
  type LayerOperands,
  layerInputs,
  layerOperands,
  runAdam,
  stateInputs,
  stateOperands,
  stateOutputs,
  type TrainedParam,
  trainedParams,
} from './step-state.ts';

const KERNEL = 'MtlCnnStep';
const TASK_KERNEL = 'MtlCnnTaskGrads';

interface WeightedLayer {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  relu: boolean;
}

/** A conv block: the convolution (geometry for one image; the batch is set per step) and its pool. */
interface ConvPlan extends WeightedLayer {
  conv: ConvGeometry;
  pool: PoolGeometry | null;
}

interface DensePlan extends WeightedLayer {
  inputs: number;
  units: number;
}

/** The network a fused kernel runs (forward and backward), without what a step does with the gradients. */
export interface FusedCnnNetwork {
  /** Floats per example (the input's trailing dimensions). */
  features: number;
  convs: ConvPlan[];
  /** Shared Dense layers after the conv blocks. */
  trunk: DensePlan[];
  /** Each task's Dense layers, the last one its logits. */
  heads: DensePlan[][];
  /** Every weighted layer: convs, trunk, then the heads in task order. */
  layers: WeightedLayer[];
}

export interface FusedCnnPlan extends FusedCnnNetwork {
  /** Fixed loss weights: the objective is Σ_t w_t · CE_t (+ the penalty). */
  taskWeights: number[];
  /** L1/L2 penalty on the trained kernels (regularization.ts). */
  l1: number;
  l2: number;
  /** Whether the penalty is part of task 0's loss (single-task: the loss is CE + penalty) or only of
   *  the objective (multi-task: the task losses are raw). */
  penaltyInLoss: boolean;
  params: TrainedParam[];
  groups: FusedGroup[];
}

export interface FusedCnnOptions {
  /** The preloaded training examples [n, ...inputShape]. */
  x: tf.Tensor;
  /** Each task's int32 labels [n]. */
  labels: tf.Tensor[];
  numClasses: number[];
  taskWeights: number[];
  regularization?: { l1: number; l2: number };
  penaltyInLoss?: boolean;
}

/**
 * The plan of a fused step, or null when anything is outside what the kernel does (the caller takes
 * the generic path): a backend other than wasm, MTL_FUSED=0, a trunk layer other than those above
 * (BatchNorm, Dropout with a rate, strided or dilated convs, other pools or activations), a head layer
 * other than Dense, an optimizer other than Adam (or one shared by two groups), a weight of a group
 * that is not one of these layers', or nothing to train. `trunk` are the shared layers in order (no
 * InputLayer), `heads` each task's Dense layers.
 */
export function planFusedCnn(
  trunk: tf.layers.Layer[],
  heads: tf.layers.Layer[][],
  groups: FusedGroup[],
  o: FusedCnnOptions,
): FusedCnnPlan | null {
  const net = planNetwork(KERNEL, trunk, heads, o);
  if (!net) return null;
  const { layers } = net;
  const params = trainedParams(layers, groups);
  if (!params) return null;
  return {
    ...net,
    taskWeights: o.taskWeights,
    l1: o.regularization?.l1 ?? 0,
    l2: o.regularization?.l2 ?? 0,
    penaltyInLoss: o.penaltyInLoss ?? false,
    params,
    groups,
  };
}

/** The network part of a plan (planFusedCnn's conditions on the backend, the data and the layers), or null. */
function planNetwork(
  kernelName: string,
  trunk: tf.layers.Layer[],
  heads: tf.layers.Layer[][],
  o: Pick<FusedCnnOptions, 'x' | 'labels' | 'numClasses'>,
): FusedCnnNetwork | null {
  if (!fusedEnabled() || tf.getBackend() !== 'wasm' || !tf.getKernel(kernelName, 'wasm')) return null;
  if (o.x.dtype !== 'float32' || o.x.rank < 2) return null;
  if (heads.length === 0 || o.labels.length !== heads.length || o.numClasses.length !== heads.length) return null;
  if (o.labels.some((y) => y.dtype !== 'int32' || y.rank !== 1 || y.shape[0] !== o.x.shape[0])) return null;
  const shape = o.x.shape.slice(1) as number[];
  const features = shape.reduce((a, b) => a * b, 1);
  const body = trunkPlan(trunk, shape);
  if (!body) return null;
  const width = body.trunk.length ? body.trunk[body.trunk.length - 1]!.units : body.flat;
  const headPlans: DensePlan[][] = [];
  for (const [t, layers] of heads.entries()) {
    const chain = denseChain(layers, width);
    if (!chain || chain.length === 0 || chain[chain.length - 1]!.units !== o.numClasses[t]) return null;
    headPlans.push(chain);
  }
  const layers: WeightedLayer[] = [...body.convs, ...body.trunk, ...headPlans.flat()];
  return { features, convs: body.convs, trunk: body.trunk, heads: headPlans, layers };
}

/** A trained weight's gradient in a per-task gradients kernel: its layer and where it is written. */
interface GradSlot {
  layer: number;
  isKernel: boolean;
  size: number;
}

/** The plan of the per-task gradients kernel: the network, and the weights whose gradients it returns. */
export interface FusedTaskGradsPlan extends FusedCnnNetwork {
  /** The shared variables in the caller's order: task t's gradient is one flattened vector of them. */
  shared: (GradSlot & { offset: number })[];
  /** Floats in that vector. */
  sharedSize: number;
  /** Each task's head variables (their names: the keys of its gradient map). */
  headVars: (GradSlot & { name: string })[][];
}

/**
 * The plan of the per-task gradients kernel (fusedTaskGradients) for `shared` (the trunk's trained
 * variables, in the order of their flattened gradient) and `headVars` (each task's), or null where
 * planFusedCnn's conditions on the backend, data and layers fail, or a variable is not a kernel or
 * bias of these layers, or there are no shared variables.
 */
export function planFusedTaskGrads(
  trunk: tf.layers.Layer[],
  heads: tf.layers.Layer[][],
  shared: tf.Variable[],
  headVars: tf.Variable[][],
  o: Pick<FusedCnnOptions, 'x' | 'labels' | 'numClasses'>,
): FusedTaskGradsPlan | null {
  if (shared.length === 0 || headVars.length !== heads.length) return null;
  const net = planNetwork(TASK_KERNEL, trunk, heads, o);
  if (!net) return null;
  const slotOf = (v: tf.Variable): GradSlot | null => {
    const layer = net.layers.findIndex((l) => l.kernel.read() === v || l.bias?.read() === v);
    if (layer < 0 || v.dtype !== 'float32') return null;
    return { layer, isKernel: net.layers[layer]!.kernel.read() === v, size: v.size };
  };
  const trunkLayers = net.convs.length + net.trunk.length;
  const seen = new Set<tf.Variable>();
  const slots: (GradSlot & { offset: number })[] = [];
  let offset = 0;
  for (const v of shared) {
    const slot = slotOf(v);
    if (!slot || slot.layer >= trunkLayers || seen.has(v)) return null;
    seen.add(v);
    slots.push({ ...slot, offset });
    offset += slot.size;
  }
  const heads2: (GradSlot & { name: string })[][] = [];
  for (const [t, vars] of headVars.entries()) {
    const base = trunkLayers + net.heads.slice(0, t).reduce((a, h) => a + h.length, 0);
    const mine: (GradSlot & { name: string })[] = [];
    for (const v of vars) {
      const slot = slotOf(v);
      if (!slot || slot.layer < base || slot.layer >= base + net.heads[t]!.length || seen.has(v)) return null;
      seen.add(v);
      mine.push({ ...slot, name: v.name });
    }
    heads2.push(mine);
  }
  return { ...net, shared: slots, sharedSize: offset, headVars: heads2 };
}

interface LayerInternals {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
}

/** Floats in a weight. */
const sizeOf = (v: tf.LayerVariable): number => v.shape.reduce((a: number, b) => a * (b ?? 0), 1);

const same = (a: unknown, b: number): boolean => (Array.isArray(a) ? a.every((v) => v === b) : a === b);

/** Conv blocks, Flatten, Dense layers: the plan of the shared part, or null. */
function trunkPlan(
  layers: tf.layers.Layer[],
  shape: number[],
): { convs: ConvPlan[]; trunk: DensePlan[]; flat: number } | null {
  const convs: ConvPlan[] = [];
  let dims = [...shape];
  let i = 0;
  for (; i < layers.length; i++) {
    const layer = layers[i]!;
    const kind = layer.getClassName();
    const config = layer.getConfig();
    if (kind === 'InputLayer') continue;
    if (kind === 'Dropout' && config.rate === 0) continue;
    if (kind === 'MaxPooling2D') {
      const last = convs[convs.length - 1];
      if (!last || last.pool || dims.length !== 3 || config.dataFormat !== 'channelsLast') return null;
      const pool = config.poolSize as number[];
      const strides = (config.strides as number[] | null) ?? pool;
      const info = tf.backend_util.computePool2DInfo(
        [1, ...dims] as [number, number, number, number],
        pool as [number, number],
        strides as [number, number],
        1,
        config.padding as 'valid' | 'same',
      );
      const g: PoolGeometry = { ...info, batchSize: 1 };
      if (!poolTiles(g)) return null;
      last.pool = g;
      dims = [info.outHeight, info.outWidth, info.outChannels];
      continue;
    }
    if (kind !== 'Conv2D') break;
    if (dims.length !== 3 || config.dataFormat !== 'channelsLast') return null;
    if (!same(config.strides, 1) || !same(config.dilationRate, 1)) return null;
    const activation = config.activation;
    if (activation !== 'relu' && activation !== 'linear') return null;
    const { kernel, bias } = layer as unknown as LayerInternals;
    const [fh, fw, cin, cout] = kernel.shape as number[];
    if (kernel.dtype !== 'float32' || kernel.shape.length !== 4 || cin !== dims[2]) return null;
    if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== cout)) return null;
    const info = tf.backend_util.computeConv2DInfo(
      [1, ...dims] as [number, number, number, number],
      [fh!, fw!, cin!, cout!],
      1,
      1,
      config.padding as 'valid' | 'same',
    );
    convs.push({ kernel, bias, relu: activation === 'relu', conv: { ...info, batchSize: 1 }, pool: null });
    dims = [info.outHeight, info.outWidth, info.outChannels];
  }
  // After the conv blocks: Flatten (needed when there were any) and Dense layers.
  const flat = dims.reduce((a, b) => a * b, 1);
  const rest: tf.layers.Layer[] = [];
  let flattened = dims.length === 1;
  for (; i < layers.length; i++) {
    const layer = layers[i]!;
    const kind = layer.getClassName();
    if (kind === 'Flatten' && !flattened) {
      flattened = true;
      continue;
    }
    if (!flattened) return null;
    rest.push(layer);
  }
  if (!flattened) return null;
  const trunk = denseChain(rest, flat);
  if (!trunk) return null;
  return { convs, trunk, flat };
}

/** Dense layers (relu or linear) and rate-0 Dropouts from `width` inputs, or null for anything else. */
function denseChain(layers: tf.layers.Layer[], width: number): DensePlan[] | null {
  const chain: DensePlan[] = [];
  for (const layer of layers) {
    const kind = layer.getClassName();
    const config = layer.getConfig();
    if (kind === 'Dropout' && config.rate === 0) continue;
    if (kind !== 'Dense') return null;
    const { kernel, bias } = layer as unknown as LayerInternals;
    const activation = config.activation;
    if (activation !== 'relu' && activation !== 'linear') return null;
    if (kernel.dtype !== 'float32' || kernel.shape.length !== 2 || kernel.shape[0] !== width) return null;
    if (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== kernel.shape[1])) return null;
    chain.push({ kernel, bias, relu: activation === 'relu', inputs: width, units: kernel.shape[1]! });
    width = kernel.shape[1]!;
  }
  return chain;
}

/** A single-task model as trunk and one head: the layers forwardLogits (classifier.ts) runs, up to
 *  `head_softmax`, the last of them the head. */
export function singleTaskLayers(model: tf.LayersModel): { trunk: tf.layers.Layer[]; heads: tf.layers.Layer[][] } {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.name === 'head_softmax') break;
    out.push(layer);
  }
  return { trunk: out.slice(0, -1), heads: out.length ? [out.slice(-1)] : [] };
}

interface StepAttrs {
  plan: FusedCnnPlan;
  index: Int32Array;
  adam: AdamConstants[];
  /** HostState.inPlace: the state tensors the kernel updates where they lie. */
  inPlace: boolean[];
}

export interface FusedCnnResult {
  /** Each task's mean cross-entropy and correct count on the batch. */
  losses: tf.Scalar[];
  correct: tf.Scalar[];
  /** Σ_t w_t · loss_t. */
  objective: tf.Scalar;
}

/**
 * One step on the batch `index` (rows of x and of every task's labels) at each group optimizer's
 * current learning rate (the caller sets them).
 */
export function fusedCnnStep(plan: FusedCnnPlan, x: tf.Tensor, labels: tf.Tensor[], index: Int32Array): FusedCnnResult {
  const inputs = dataInputs(x, labels);
  const state = stateInputs(plan, inputs);
  const attrs: StepAttrs = { plan, index, adam: state.adam, inPlace: state.inPlace };
  const outs = tf.engine().runKernel(KERNEL, inputs as never, attrs as never) as tf.Tensor[];
  const T = plan.heads.length;
  applyState(state, outs, 2 * T + 1);
  return {
    losses: outs.slice(0, T) as tf.Scalar[],
    correct: outs.slice(T, 2 * T) as tf.Scalar[],
    objective: outs[2 * T] as tf.Scalar,
  };
}

/** The kernel inputs x and y_t. */
function dataInputs(x: tf.Tensor, labels: tf.Tensor[]): Record<string, tf.Tensor> {
  const inputs: Record<string, tf.Tensor> = { x };
  labels.forEach((y, t) => {
    inputs[inputName('y', t)] = y;
  });
  return inputs;
}

/** Register the kernels for the wasm backend. The step: inputs {x, y_t, w_i, b_i, m_j, v_j, accBeta1_g,
 *  accBeta2_g}, outputs [loss_t…, correct_t…, objective, (x', m', v') per param, (accBeta1', accBeta2')
 *  per group]. The per-task gradients: see fusedTaskGradients. */
export function registerFusedCnn(runtime: (backend: unknown) => NativeRuntime): void {
  tf.registerKernel({
    kernelName: KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      countKernelCall(KERNEL);
      return cnnStepKernel(runtime(args.backend), args);
    },
  });
  tf.registerKernel({
    kernelName: TASK_KERNEL,
    backendName: 'wasm',
    kernelFunc: (args) => {
      countKernelCall(TASK_KERNEL);
      return taskGradsKernel(runtime(args.backend), args);
    },
  });
}

const batched = <G extends { batchSize: number }>(g: G, rows: number): G => ({ ...g, batchSize: rows });
const convOutFloats = (g: ConvGeometry): number => g.outHeight * g.outWidth * g.outChannels;
const poolOutFloats = (g: PoolGeometry): number => g.outHeight * g.outWidth * g.inChannels;

/**
 * One pass of a network over a batch inside a kernel: the scratch (the batch and labels, every
 * layer's output and the gradient at it, each weight's gradient) and the operands' addresses. The
 * weight-gradient addresses may be pointed elsewhere (at a kernel output) before a backward.
 */
interface Pass {
  /** The kernel running the pass: conv passes off im2col count as `<kernelName>:<path>`. */
  kernelName: string;
  rt: NativeRuntime;
  net: FusedCnnNetwork;
  rows: number;
  weight: number[];
  bias: number[];
  input: number;
  labels: number[];
  convGeo: ConvGeometry[];
  poolGeo: (PoolGeometry | null)[];
  convOut: number[];
  poolArg: number[];
  poolOut: number[];
  blockOut: number[];
  dConvOut: number[];
  dPoolOut: number[];
  dBlockOut: number[];
  trunkOut: number[];
  dTrunkOut: number[];
  headOut: number[][];
  dHeadOut: number[][];
  kernelGrad: number[];
  biasGrad: number[];
  paths: { forward: ConvPath; filter: ConvPath; input: ConvPath | null }[];
  /** The flattened conv output (or the input), the shared representation and the gradient at it. */
  flat: number;
  rep: number;
  dRep: number;
  /** Each head's first layer in `layers`. */
  headBase: number[];
}

/** Scratch for a pass over the batch `index`, the batch and labels gathered into it (after rt.reset()
 *  and every input and output resolved). */
function preparePass(
  kernelName: string,
  rt: NativeRuntime,
  wasm: WasmBackendLike,
  ins: Record<string, TensorInfo>,
  net: FusedCnnNetwork,
  index: Int32Array,
  ops: LayerOperands,
): Pass {
  const { layers, convs, trunk, heads } = net;
  const rows = index.length;
  const C = convs.length;
  const input = rt.alloc(rows * net.features);
  const labels = heads.map(() => rt.alloc(rows));
  gatherBatch(rt, wasm, ins, index, net.features, input, labels);
  const convGeo = convs.map((c) => batched(c.conv, rows));
  const poolGeo = convs.map((c) => (c.pool ? batched(c.pool, rows) : null));
  const convOut = convs.map((c) => rt.alloc(rows * convOutFloats(c.conv)));
  const poolOut = convs.map((c) => (c.pool ? rt.alloc(rows * poolOutFloats(c.pool)) : 0));
  // One byte per pooled element: its maximum's window position (maxPoolAt, read by maxPoolGradArgAt).
  const poolArg = convs.map((c) => (c.pool ? rt.alloc(Math.ceil((rows * poolOutFloats(c.pool)) / 4)) : 0));
  const blockOut = convs.map((_, c) => poolOut[c] || convOut[c]!);
  const dConvOut = convs.map((c) => rt.alloc(rows * convOutFloats(c.conv)));
  const dPoolOut = convs.map((c) => (c.pool ? rt.alloc(rows * poolOutFloats(c.pool)) : 0));
  const dBlockOut = convs.map((_, c) => dPoolOut[c] || dConvOut[c]!);
  const trunkOut = trunk.map((l) => rt.alloc(rows * l.units));
  const dTrunkOut = trunk.map((l) => rt.alloc(rows * l.units));
  const headOut = heads.map((h) => h.map((l) => rt.alloc(rows * l.units)));
  const dHeadOut = heads.map((h) => h.map((l) => rt.alloc(rows * l.units)));
  const kernelGrad = layers.map((l) => rt.alloc(sizeOf(l.kernel)));
  const biasGrad = layers.map((l) => (l.bias ? rt.alloc(l.bias.shape[0]!) : 0));
  const paths = convGeo.map((g, c) => ({
    forward: convPathFor(rt, g, 'forward'),
    filter: convPathFor(rt, g, 'filter'),
    input: c > 0 ? convPathFor(rt, g, 'input') : null,
  }));
  const flat = C ? blockOut[C - 1]! : input;
  const rep = trunk.length ? trunkOut[trunk.length - 1]! : flat;
  const dRep = trunk.length ? dTrunkOut[trunk.length - 1]! : C ? dBlockOut[C - 1]! : 0;
  const headBase = heads.map((_, t) => C + trunk.length + heads.slice(0, t).reduce((a, h) => a + h.length, 0));
  return {
    kernelName,
    rt,
    net,
    rows,
    weight: ops.weight,
    bias: ops.bias,
    input,
    labels,
    convGeo,
    poolGeo,
    convOut,
    poolArg,
    poolOut,
    blockOut,
    dConvOut,
    dPoolOut,
    dBlockOut,
    trunkOut,
    dTrunkOut,
    headOut,
    dHeadOut,
    kernelGrad,
    biasGrad,
    paths,
    flat,
    rep,
    dRep,
    headBase,
  };
}

/** `<kernel>:<path>` (direct, winograd, winograd4, winograd-adjoint, winograd4-adjoint): one count per convolution pass run on that path (tests assert it). */
function countConvPath(p: Pass, path: ConvPath): void {
  if (path !== 'im2col') countKernelCall(`${p.kernelName}:${path}`);
}

/** Where task t's softmax cross-entropy goes: its gradient scale, and the addresses of its loss and correct count. */
type LossTargets = (t: number) => { scale: number; loss: number; correct: number };

/** Forward: conv blocks, trunk, heads; each head's softmax cross-entropy and its gradient at the logits. */
function forward(p: Pass, xent: LossTargets): void {
  const { rt, net, rows } = p;
  net.convs.forEach((c, i) => {
    const pooled = c.pool ? poolOutFloats(c.pool) : 0;
    // The pool runs on each run of images the convolution has just written (ops.ts ImageRunHook), and
    // records each maximum's window position for the backward pass (which then never reads the
    // convolution's output again). Writing every run at the start of the output buffer instead (in
    // cache) measured no faster and raised the bench's peak RSS from 397 to 466 MB (2026-11-30).
    const pool = (b0: number, b1: number, at: number): undefined => {
      const out = p.poolOut[i]! + b0 * pooled * 4;
      maxPoolAt(rt, { ...p.poolGeo[i]!, batchSize: b1 - b0 }, at, out, p.poolArg[i]! + b0 * pooled);
    };
    conv2dAt(
      rt,
      p.convGeo[i]!,
      { x: i === 0 ? p.input : p.blockOut[i - 1]!, filter: p.weight[i]!, bias: p.bias[i]!, y: p.convOut[i]! },
      { path: p.paths[i]!.forward, relu: c.relu, after: c.pool ? pool : undefined },
    );
    countConvPath(p, p.paths[i]!.forward);
  });
  const C = net.convs.length;
  net.trunk.forEach((l, i) => {
    denseForward(p, l, C + i, i === 0 ? p.flat : p.trunkOut[i - 1]!, p.trunkOut[i]!);
  });
  net.heads.forEach((h, t) => {
    h.forEach((l, i) => {
      denseForward(p, l, p.headBase[t]! + i, i === 0 ? p.rep : p.headOut[t]![i - 1]!, p.headOut[t]![i]!);
    });
    const logits = p.headOut[t]![h.length - 1]!;
    const { scale, loss, correct } = xent(t);
    const classes = h[h.length - 1]!.units;
    rt.run(
      [OP.SOFTMAX_XENT, rows, classes, logits, p.labels[t]!, p.dHeadOut[t]![h.length - 1]!, scale, loss, correct],
      false,
    );
  });
}

/** A Dense layer at `at` (in `layers`): y = act(x·W + b). */
function denseForward(p: Pass, l: DensePlan, at: number, x: number, y: number): void {
  gemm(p.rt, {
    m: p.rows,
    n: l.units,
    k: l.inputs,
    transA: false,
    transB: false,
    aPtr: x,
    bPtr: p.weight[at]!,
    cPtr: y,
    biasPtr: p.bias[at]!,
    relu: l.relu,
    accumulate: false,
  });
}

/**
 * Backward of a Dense layer at `at` with input x and the gradient dz at its (activated) output y: its
 * relu mask (in place on dz), weight gradients, and the gradient at its input (dx, accumulated when
 * `add`; none when dx is 0).
 */
function denseBackward(p: Pass, l: DensePlan, at: number, x: number, y: number, dz: number, dx: number, add: boolean) {
  const { rt, rows } = p;
  if (l.relu) rt.run([OP.RELU_MASK, rows * l.units, dz, y, dz], false);
  gemm(rt, {
    m: l.inputs,
    n: l.units,
    k: rows,
    transA: true,
    transB: false,
    aPtr: x,
    bPtr: dz,
    cPtr: p.kernelGrad[at]!,
    biasPtr: 0,
    accumulate: false,
  });
  if (l.bias) rt.run([OP.COLUMN_SUM, rows, l.units, dz, p.biasGrad[at]!], false);
  if (dx === 0) return;
  gemm(rt, {
    m: rows,
    n: l.inputs,
    k: l.units,
    transA: false,
    transB: true,
    aPtr: dz,
    bPtr: p.weight[at]!,
    cPtr: dx,
    biasPtr: 0,
    accumulate: add,
  });
}

/** Head t's backward from the gradient at its logits: its weights' gradients, and the gradient at the
 *  shared representation (written, or added to it when `add`). */
function headBackward(p: Pass, t: number, add: boolean): void {
  const h = p.net.heads[t]!;
  for (let i = h.length - 1; i >= 0; i--) {
    const x = i === 0 ? p.rep : p.headOut[t]![i - 1]!;
    const dx = i === 0 ? p.dRep : p.dHeadOut[t]![i - 1]!;
    denseBackward(p, h[i]!, p.headBase[t]! + i, x, p.headOut[t]![i]!, p.dHeadOut[t]![i]!, dx, i === 0 && add);
  }
}

/** The shared layers' backward from the gradient at the representation: Dense trunk, then conv blocks
 *  (the gradient at the input is not formed). */
function trunkBackward(p: Pass): void {
  const { rt, net, rows } = p;
  const { convs, trunk } = net;
  const C = convs.length;
  for (let i = trunk.length - 1; i >= 0; i--) {
    const x = i === 0 ? p.flat : p.trunkOut[i - 1]!;
    const dx = i > 0 ? p.dTrunkOut[i - 1]! : C ? p.dBlockOut[C - 1]! : 0;
    denseBackward(p, trunk[i]!, C + i, x, p.trunkOut[i]!, p.dTrunkOut[i]!, dx, false);
  }
  for (let i = C - 1; i >= 0; i--) {
    const c = convs[i]!;
    const g = p.convGeo[i]!;
    // The pool's windows tile the image, so each window sends its gradient to exactly one position,
    // its first maximum, whose relu output is the pooled value: the relu mask and the bias gradient
    // can take the 4× smaller pooled tensor (the same products; the bias sum in another order).
    const n = rows * convOutFloats(c.conv);
    const pooled = rows * (c.pool ? poolOutFloats(c.pool) : 0);
    if (c.pool && c.relu) rt.run([OP.RELU_MASK, pooled, p.dPoolOut[i]!, p.poolOut[i]!, p.dPoolOut[i]!], false);
    if (!c.pool && c.relu) rt.run([OP.RELU_MASK, n, p.dConvOut[i]!, p.convOut[i]!, p.dConvOut[i]!], false);
    // The pool's gradient (dy of the convolution, from the window positions the forward pass
    // recorded) run by run of images, just before the filter gradient reads it (ops.ts ImageRunHook).
    // The first block's dy feeds nothing else (no input gradient): each run reuses the start of its
    // buffer, which stays in cache.
    const pooledFloats = c.pool ? poolOutFloats(c.pool) : 0;
    const poolGrad = (b0: number, b1: number, at: number): number => {
      const dy = i === 0 ? p.dConvOut[i]! : at;
      const arg = p.poolArg[i]! + b0 * pooledFloats;
      maxPoolGradArgAt(rt, { ...p.poolGeo[i]!, batchSize: b1 - b0 }, arg, p.dPoolOut[i]! + b0 * pooledFloats * 4, dy);
      return dy;
    };
    const x = i === 0 ? p.input : p.blockOut[i - 1]!;
    conv2dFilterGradAt(rt, g, x, p.dConvOut[i]!, p.kernelGrad[i]!, {
      path: p.paths[i]!.filter,
      before: c.pool ? poolGrad : undefined,
    });
    countConvPath(p, p.paths[i]!.filter);
    const [dSum, sumRows] = c.pool ? [p.dPoolOut[i]!, pooled] : [p.dConvOut[i]!, n];
    if (c.bias) rt.run([OP.COLUMN_SUM, sumRows / g.outChannels, g.outChannels, dSum, p.biasGrad[i]!], false);
    if (i > 0) {
      conv2dInputGradAt(rt, g, p.dConvOut[i]!, p.weight[i]!, p.dBlockOut[i - 1]!, { path: p.paths[i]!.input! });
      countConvPath(p, p.paths[i]!.input!);
    }
  }
}

function cnnStepKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { plan, index, adam, inPlace } = attrs as unknown as StepAttrs;
  const ins = inputs as Record<string, TensorInfo>;
  const wasm = backend as WasmBackendLike;
  const view = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  const { layers, params, heads } = plan;

  // Outputs first: making them may grow the heap. From here on only addresses (numbers) are kept.
  const lossOuts = heads.map(() => wasm.makeOutput([], 'float32'));
  const correctOuts = heads.map(() => wasm.makeOutput([], 'float32'));
  const objectiveOut = wasm.makeOutput([], 'float32');
  const state = stateOutputs(wasm, ins, params, adam, inPlace);
  rt.reset();
  const ops = stateOperands(rt, wasm, ins, plan, state);
  const { weight } = ops;
  const loss = lossOuts.map((t) => rt.output(view(t)));
  const correct = correctOuts.map((t) => rt.output(view(t)));

  const p = preparePass(KERNEL, rt, wasm, ins, plan, index, ops);
  // Each task's loss scaled by its fixed weight; the head gradients summed into the representation.
  forward(p, (t) => ({
    scale: f32Bits(plan.taskWeights[t]! / p.rows),
    loss: loss[t]!.addr,
    correct: correct[t]!.addr,
  }));
  heads.forEach((_, t) => {
    headBackward(p, t, t > 0);
  });
  trunkBackward(p);

  // λ1·Σ|w| + λ2·Σw² over the trained kernels, in their order, and its gradient.
  const penalty = rt.alloc(1);
  rt.view(penalty, 1)[0] = 0;
  if (plan.l1 > 0 || plan.l2 > 0) {
    params.forEach((q) => {
      if (!q.isKernel) return;
      const n = sizeOf(layers[q.layer]!.kernel);
      rt.run(
        [OP.PENALTY, n, weight[q.layer]!, p.kernelGrad[q.layer]!, f32Bits(plan.l1), f32Bits(plan.l2), penalty],
        false,
      );
    });
  }

  runAdam(rt, plan, state, ops, (q) => {
    const l = layers[q.layer]!;
    return q.isKernel
      ? { at: p.kernelGrad[q.layer]!, size: sizeOf(l.kernel) }
      : { at: p.biasGrad[q.layer]!, size: sizeOf(l.bias!) };
  });
  // The objective as tfjs forms it: each loss times its weight in float32, then summed in order.
  const penaltySum = rt.view(penalty, 1)[0]!;
  const hasPenalty = plan.l1 > 0 || plan.l2 > 0;
  if (hasPenalty && plan.penaltyInLoss) {
    const l0 = rt.view(loss[0]!.addr, 1);
    l0[0] = Math.fround(l0[0]! + penaltySum);
  }
  let objective = 0;
  loss.forEach((l, t) => {
    objective = Math.fround(objective + Math.fround(rt.view(l.addr, 1)[0]! * Math.fround(plan.taskWeights[t]!)));
  });
  if (hasPenalty && !plan.penaltyInLoss) objective = Math.fround(objective + penaltySum);
  [...loss, ...correct, ...ops.targets].forEach((t) => {
    rt.deliver(t);
  });
  view(objectiveOut)[0] = objective;
  return [...lossOuts, ...correctOuts, objectiveOut, ...state.outputs];
}

interface TaskGradsAttrs {
  plan: FusedTaskGradsPlan;
  index: Int32Array;
  /** Only the gradients at the shared representation (MGDA-UB): no trunk backward. */
  representation: boolean;
}

export interface FusedTaskGradients {
  /** Each task's mean cross-entropy L_t and correct count on the batch. */
  losses: tf.Scalar[];
  correct: tf.Scalar[];
  /** ∇L_t on the shared variables, flattened in the plan's order. */
  shared: Float32Array[];
  /** ∇L_t on task t's head variables, by variable name (owned by the caller). */
  heads: tf.NamedTensorMap[];
}

/**
 * Each task's gradient of its own unweighted loss on the batch `index`, from ONE forward pass (conv
 * blocks, trunk, every head): per task, its head's backward and the trunk's backward from that head's
 * gradient at the shared representation. Nothing is updated.
 */
export function fusedTaskGradients(
  plan: FusedTaskGradsPlan,
  x: tf.Tensor,
  labels: tf.Tensor[],
  index: Int32Array,
): FusedTaskGradients {
  const outs = runTaskGrads(plan, x, labels, index, false);
  const T = plan.heads.length;
  const flat = outs[2 * T]!;
  const all = flat.dataSync() as Float32Array;
  flat.dispose();
  const P = plan.sharedSize;
  let next = 2 * T + 1;
  const heads = plan.headVars.map((vars) => {
    const map: tf.NamedTensorMap = {};
    for (const v of vars) map[v.name] = outs[next++]!;
    return map;
  });
  return {
    losses: outs.slice(0, T) as tf.Scalar[],
    correct: outs.slice(T, 2 * T) as tf.Scalar[],
    shared: Array.from({ length: T }, (_, t) => all.slice(t * P, (t + 1) * P)),
    heads,
  };
}

/**
 * Each task's gradient of its own unweighted loss at the shared representation Z (the trunk's output,
 * [rows, width] row-major, flattened) on the batch `index`, from one forward pass and each head's
 * backward (MGDA-UB, Sener & Koltun 2018 §3.3); and the losses L_t (owned by the caller).
 */
export function fusedRepresentationGradients(
  plan: FusedTaskGradsPlan,
  x: tf.Tensor,
  labels: tf.Tensor[],
  index: Int32Array,
): { losses: tf.Scalar[]; grads: Float32Array[] } {
  const outs = runTaskGrads(plan, x, labels, index, true);
  const T = plan.heads.length;
  const all = outs[2 * T]!.dataSync() as Float32Array;
  const size = all.length / T;
  tf.dispose(outs.slice(T));
  return {
    losses: outs.slice(0, T) as tf.Scalar[],
    grads: Array.from({ length: T }, (_, t) => all.slice(t * size, (t + 1) * size)),
  };
}

function runTaskGrads(
  plan: FusedTaskGradsPlan,
  x: tf.Tensor,
  labels: tf.Tensor[],
  index: Int32Array,
  representation: boolean,
): tf.Tensor[] {
  const inputs = dataInputs(x, labels);
  layerInputs(plan.layers, inputs);
  const attrs: TaskGradsAttrs = { plan, index, representation };
  return tf.engine().runKernel(TASK_KERNEL, inputs as never, attrs as never) as tf.Tensor[];
}

/** Inputs {x, y_t, w_i, b_i}; outputs [loss_t…, correct_t…, shared gradients [T, P], each task's head
 *  gradients (in the shapes of its variables)], or with `representation` [loss_t…, correct_t…, the
 *  gradients at the representation [T, rows · width]]. */
function taskGradsKernel(rt: NativeRuntime, { inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { plan, index, representation } = attrs as unknown as TaskGradsAttrs;
  const ins = inputs as Record<string, TensorInfo>;
  const wasm = backend as WasmBackendLike;
  const view = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  const { layers, heads } = plan;
  const T = heads.length;
  const shapeOf = (g: GradSlot): number[] => {
    const v = g.isKernel ? layers[g.layer]!.kernel : layers[g.layer]!.bias!;
    return v.shape as number[];
  };

  // Outputs first: making them may grow the heap. From here on only addresses (numbers) are kept.
  const lossOuts = heads.map(() => wasm.makeOutput([], 'float32'));
  const correctOuts = heads.map(() => wasm.makeOutput([], 'float32'));
  // Floats per example of the shared representation: what every head's first layer takes.
  const repWidth = heads[0]![0]!.inputs;
  const sharedOut = wasm.makeOutput([T, representation ? index.length * repWidth : plan.sharedSize], 'float32');
  const headOuts = representation
    ? []
    : plan.headVars.map((vars) => vars.map((v) => wasm.makeOutput(shapeOf(v), 'float32')));
  rt.reset();
  const ops = layerOperands(rt, wasm, ins, layers);
  const loss = lossOuts.map((t) => rt.output(view(t)));
  const correct = correctOuts.map((t) => rt.output(view(t)));
  const shared = rt.output(view(sharedOut));
  const headTargets = headOuts.map((h) => h.map((t) => rt.output(view(t))));

  const p = preparePass(TASK_KERNEL, rt, wasm, ins, plan, index, ops);
  const scale = f32Bits(1 / p.rows);
  forward(p, (t) => ({ scale, loss: loss[t]!.addr, correct: correct[t]!.addr }));
  // The weights' gradients are written straight into the outputs: task t's row of the shared ones.
  const point = (g: GradSlot, at: number): void => {
    if (g.isKernel) p.kernelGrad[g.layer] = at;
    else p.biasGrad[g.layer] = at;
  };
  heads.forEach((_, t) => {
    if (representation) {
      // Task t's row of the output takes the gradient at the representation; the heads' weight
      // gradients go to scratch, and nothing below the representation runs.
      p.dRep = shared.addr + 4 * t * p.rows * repWidth;
      headBackward(p, t, false);
      return;
    }
    plan.headVars[t]!.forEach((g, k) => {
      point(g, headTargets[t]![k]!.addr);
    });
    plan.shared.forEach((g) => {
      point(g, shared.addr + 4 * (t * plan.sharedSize + g.offset));
    });
    headBackward(p, t, false);
    trunkBackward(p);
  });
  [...loss, ...correct, shared, ...headTargets.flat()].forEach((t) => {
    rt.deliver(t);
  });
  return [...lossOuts, ...correctOuts, sharedOut, ...headOuts.flat()];
}

/**
 * The batch's rows of x and of every task's labels into scratch: natively from tfjs's heap when the
 * kernels run on it (one thread), else copied into the runtime's memory.
 */
function gatherBatch(
  rt: NativeRuntime,
  wasm: WasmBackendLike,
  ins: Record<string, TensorInfo>,
  index: Int32Array,
  features: number,
  xDst: number,
  yDst: number[],
): void {
  const x = ins.x!;
  const n = x.shape[0]!;
  const rows = index.length;
  for (const r of index)
    if (!(r >= 0 && r < n)) throw new Error(`fused cnn step: the row index ${r} is not in [0, ${n - 1}]`);
  if (rt.zeroCopy) {
    // The tensors' heap addresses (no views: growing the heap in the alloc below would detach them).
    const xAt = heapAddress(wasm, x);
    const yAt = yDst.map((_, t) => heapAddress(wasm, ins[inputName('y', t)]!));
    const at = rt.alloc(rows);
    rt.viewI32(at, rows).set(index);
    rt.run([OP.GATHER_ROWS, rows, features, xAt, at, xDst], false);
    yAt.forEach((y, t) => {
      rt.run([OP.GATHER_ROWS, rows, 1, y, at, yDst[t]!], false);
    });
    return;
  }
  const xs = wasm.typedArrayFromHeap(x) as Float32Array;
  const ys = yDst.map((_, t) => wasm.typedArrayFromHeap(ins[inputName('y', t)]!) as Int32Array);
  const dst = rt.view(xDst, rows * features);
  index.forEach((r, i) => {
    dst.set(xs.subarray(r * features, (r + 1) * features), i * features);
  });
  ys.forEach((y, t) => {
    const labels = rt.viewI32(yDst[t]!, rows);
    index.forEach((r, i) => {
      labels[i] = y[r]!;
    });
  });
}
