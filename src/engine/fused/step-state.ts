// What every fused training step (dense.ts, cnn.ts) shares: the trained weights and their Adam state.
// On the host: the step kernel's inputs for weights, moments and β-powers, and putting the kernel's new
// values back into the layers' and the AdamOptimizer's own variables (so checkpoints and resume cannot
// tell which path trained). In the kernel: the outputs for them, each group's bias-corrected Adam
// constants, the operands' addresses, and the Adam update of every trained weight.
//
// In place where nothing else can see it: a weight, moment or β-power whose memory no other tensor
// shares (the backend's refCount is 1: no clone, no reshape, no snapshot of it) is updated where it
// lies, and the kernel makes no new tensor for it. Only a shared one (a clone kept as the best
// weights, a variable still sharing its initial value) gets a new tensor, assign()ed after the step,
// so whoever shares the old memory keeps the old values. The same numbers either way; in place saves
// the step ~14 tensors made, tracked, assigned and disposed (dense.ts, cnn.ts).

import { tf } from '../backend/tf.ts';
import { countKernelCall } from '../kernels/calls.ts';
import { operand, type TensorInfo, type WasmBackendLike } from '../kernels/utils.ts';
import type { NativeRuntime, Target } from '../native/runtime.ts';
import { type AdamAttrs, type AdamInternals, adamMoments, adamParams } from './adam.ts';

/** Whether MTL_FUSED allows the fused steps (MTL_FUSED=0 turns them off: A/B runs, escape hatch). */
export function fusedEnabled(): boolean {
  return process.env.MTL_FUSED !== '0';
}

/** A weight a step updates: its layer (index into the plan's `layers`), and its slot in its group's Adam moments. */
export interface TrainedParam {
  layer: number;
  isKernel: boolean;
  variable: tf.LayerVariable;
  group: number;
  slot: number;
}

/** One group's Adam hyper-parameters (its β-powers are kernel inputs: read from the heap, no dataSync). */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/** What the state helpers read of a fused plan. */
export interface StatePlan {
  layers: { kernel: tf.LayerVariable; bias: tf.LayerVariable | null }[];
  params: TrainedParam[];
  groups: { optimizer: tf.Optimizer }[];
}

/**
 * The weights each group's Adam trains, in the order of the caller's gradient map (its layers, then
 * each layer's trainableWeights, in order): the order tfjs's Adam indexes its moments by. Null when a
 * step cannot take them: a group not on Adam, two groups sharing an optimizer (tfjs indexes moments by
 * position in each applyGradients call), a weight outside `layers`, shared, or not float32.
 */
export function trainedParams(
  layers: StatePlan['layers'],
  groups: { layers: tf.layers.Layer[]; optimizer: tf.Optimizer }[],
): TrainedParam[] | null {
  if (new Set(groups.map((g) => g.optimizer)).size !== groups.length) return null;
  const params: TrainedParam[] = [];
  const seen = new Set<tf.LayerVariable>();
  for (const [group, g] of groups.entries()) {
    // Not instanceof: tfjs's Optimizer[Symbol.hasInstance] says yes for every optimizer.
    if (g.optimizer.getClassName() !== 'Adam') return null;
    let slot = 0;
    for (const l of g.layers) {
      for (const w of l.trainableWeights) {
        const layer = layers.findIndex((d) => d.kernel === w || d.bias === w);
        if (layer < 0 || seen.has(w) || w.dtype !== 'float32') return null;
        seen.add(w);
        params.push({ layer, isKernel: layers[layer]!.kernel === w, variable: w, group, slot: slot++ });
      }
    }
  }
  return params.length ? params : null;
}

export interface HostState {
  opts: AdamInternals[];
  moments: { value: tf.Variable; m: tf.Variable; v: tf.Variable }[];
  adam: AdamConstants[];
  /** The state tensors in the kernel's order: (x, m, v) per trained weight, then (accBeta1, accBeta2)
   *  per group. */
  variables: tf.Variable[];
  /** Per state tensor (same order): whether the kernel updates it in place (it gets no output). */
  inPlace: boolean[];
}

/** kernelCalls counters, one count per state tensor per step: updated in place, or given a new tensor. */
export const STATE_IN_PLACE = 'MtlStepState:inPlace';
export const STATE_NEW_TENSOR = 'MtlStepState:newTensor';

type InputPrefix = 'w' | 'b' | 'm' | 'v' | 'y' | 'accBeta1_' | 'accBeta2_';
/** The kernels' input names (w0, b0, m0, v0, y0, accBeta1_0, …), each built once: a name built anew
 *  every step costs a string and a hash-table lookup to find the property, ~40 per MNIST MLP step. */
const NAMES: Record<InputPrefix, string[]> = { w: [], b: [], m: [], v: [], y: [], accBeta1_: [], accBeta2_: [] };

/** `${prefix}${i}`, the same string every time. */
export function inputName(prefix: InputPrefix, i: number): string {
  const list = NAMES[prefix];
  let name = list[i];
  if (name === undefined) {
    name = `${prefix}${i}`;
    list[i] = name;
  }
  return name;
}

/** Whether a kernel may write `t`'s memory in place: no other tensor shares it (see the header). */
function unshared(t: tf.Tensor): boolean {
  const backend = tf.engine().backend as unknown as { refCount?(dataId: object): number };
  return backend.refCount?.(t.dataId) === 1;
}

/** Adds each layer's weights to the kernel's `inputs`: w_i (kernel) and b_i (bias, where it has one). */
export function layerInputs(layers: StatePlan['layers'], inputs: Record<string, tf.Tensor>): void {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    inputs[inputName('w', i)] = l.kernel.read();
    if (l.bias) inputs[inputName('b', i)] = l.bias.read();
  }
}

/** Adds w_i, b_i, accBeta1_g, accBeta2_g, m_j and v_j to the kernel's `inputs` (moments made lazily, as tfjs does). */
export function stateInputs(plan: StatePlan, inputs: Record<string, tf.Tensor>): HostState {
  const opts: AdamInternals[] = [];
  const adam: AdamConstants[] = [];
  layerInputs(plan.layers, inputs);
  for (let g = 0; g < plan.groups.length; g++) {
    const o = plan.groups[g]!.optimizer as unknown as AdamInternals;
    opts.push(o);
    adam.push({ beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, learningRate: o.learningRate });
    inputs[inputName('accBeta1_', g)] = o.accBeta1;
    inputs[inputName('accBeta2_', g)] = o.accBeta2;
  }
  const moments: HostState['moments'] = [];
  const variables: tf.Variable[] = [];
  for (let j = 0; j < plan.params.length; j++) {
    const p = plan.params[j]!;
    const value = p.variable.read() as tf.Variable;
    const { m, v } = adamMoments(opts[p.group]!, p.slot, value);
    inputs[inputName('m', j)] = m;
    inputs[inputName('v', j)] = v;
    moments.push({ value, m, v });
    variables.push(value, m, v);
  }
  for (const o of opts) variables.push(o.accBeta1, o.accBeta2);
  const inPlace: boolean[] = [];
  let own = 0;
  for (const variable of variables) {
    const alone = unshared(variable);
    inPlace.push(alone);
    if (alone) own++;
  }
  if (own > 0) countKernelCall(STATE_IN_PLACE, own);
  if (own < variables.length) countKernelCall(STATE_NEW_TENSOR, variables.length - own);
  return { opts, moments, adam, variables, inPlace };
}

/**
 * outs[first…] are the new values of the state tensors not updated in place, in the kernel's order
 * ((x', m', v') per trained weight, then (accBeta1', accBeta2') per group): assigns them and disposes
 * them. Every group's optimizer takes a step, as applyGradients does (even one with nothing to update).
 */
export function applyState(s: HostState, outs: tf.Tensor[], first: number): void {
  let next = first;
  for (let i = 0; i < s.variables.length; i++) if (!s.inPlace[i]) s.variables[i]!.assign(outs[next++]!);
  for (const o of s.opts) o.incrementIterations();
  for (let i = first; i < outs.length; i++) outs[i]!.dispose();
}

export interface KernelState {
  /** The new tensors for the state not updated in place, in the kernel's order: its last outputs. */
  outputs: TensorInfo[];
  /** Where each trained weight's (x', m', v') go: a new output, or the input itself when in place. */
  targets: TensorInfo[];
  groupAdam: AdamAttrs[];
  /** Writes the new β-powers (runAdam's last act: a step that fails before it leaves them as they were). */
  commitBetaPowers(): void;
}

/**
 * In the kernel, before any view is kept (making outputs may grow the heap): the outputs for the new
 * weights, moments and β-powers, the new β-powers written, and each group's bias corrections. tfjs
 * computes sub(1, accBeta) and mul(accBeta, β) in float32; fround of the exact double result is that
 * float32 (a product or difference of two float32s is exact in double).
 */
export function stateOutputs(
  wasm: WasmBackendLike,
  ins: Record<string, TensorInfo>,
  params: TrainedParam[],
  adam: AdamConstants[],
  inPlace: boolean[],
): KernelState {
  const view = (t: TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  const outputs: TensorInfo[] = [];
  const target = (t: TensorInfo, i: number): TensorInfo => {
    if (inPlace[i]) return t;
    const out = wasm.makeOutput(t.shape, 'float32');
    outputs.push(out);
    return out;
  };
  const targets: TensorInfo[] = [];
  for (let j = 0; j < params.length; j++) {
    const p = params[j]!;
    targets.push(
      target(ins[inputName(p.isKernel ? 'w' : 'b', p.layer)]!, 3 * j),
      target(ins[inputName('m', j)]!, 3 * j + 1),
      target(ins[inputName('v', j)]!, 3 * j + 2),
    );
  }
  const betaPowers: TensorInfo[] = [];
  for (let g = 0; g < adam.length; g++) {
    const at = 3 * params.length + 2 * g;
    betaPowers.push(target(ins[inputName('accBeta1_', g)]!, at), target(ins[inputName('accBeta2_', g)]!, at + 1));
  }
  // Views after the last output is made. Each β-power's new value is written only when the step's
  // Adam has run: in place, an earlier write would survive a step that failed.
  const next: number[] = [];
  const groupAdam: AdamAttrs[] = [];
  for (let g = 0; g < adam.length; g++) {
    const a = adam[g]!;
    const acc1 = view(ins[inputName('accBeta1_', g)]!)[0]!;
    const acc2 = view(ins[inputName('accBeta2_', g)]!)[0]!;
    next.push(acc1 * Math.fround(a.beta1), acc2 * Math.fround(a.beta2));
    groupAdam.push({
      beta1: a.beta1,
      beta2: a.beta2,
      epsilon: a.epsilon,
      learningRate: a.learningRate,
      oneMinusAccBeta1: Math.fround(1 - acc1),
      oneMinusAccBeta2: Math.fround(1 - acc2),
    });
  }
  const commitBetaPowers = (): void => {
    for (let i = 0; i < betaPowers.length; i++) view(betaPowers[i]!)[0] = next[i]!;
  };
  return { outputs, targets, groupAdam, commitBetaPowers };
}

export interface LayerOperands {
  weight: number[];
  /** 0 for a layer without bias. */
  bias: number[];
}

/** The addresses of the layers' weights and biases (layerInputs' w_i, b_i; after rt.reset()). */
export function layerOperands(
  rt: NativeRuntime,
  wasm: WasmBackendLike,
  ins: Record<string, TensorInfo>,
  layers: StatePlan['layers'],
): LayerOperands {
  const weight: number[] = [];
  const bias: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    weight.push(operand(rt, wasm, ins[inputName('w', i)]!));
    bias.push(layers[i]!.bias ? operand(rt, wasm, ins[inputName('b', i)]!) : 0);
  }
  return { weight, bias };
}

export interface StateOperands extends LayerOperands {
  moment: (readonly [number, number])[];
  /** (x', m', v') per trained weight. */
  targets: Target[];
}

/** The addresses of the weights, biases and moments, and the targets of the new values (after rt.reset()). */
export function stateOperands(
  rt: NativeRuntime,
  wasm: WasmBackendLike,
  ins: Record<string, TensorInfo>,
  plan: Pick<StatePlan, 'layers' | 'params'>,
  state: KernelState,
): StateOperands {
  const { weight, bias } = layerOperands(rt, wasm, ins, plan.layers);
  const moment: StateOperands['moment'] = [];
  for (let j = 0; j < plan.params.length; j++)
    moment.push([operand(rt, wasm, ins[inputName('m', j)]!), operand(rt, wasm, ins[inputName('v', j)]!)]);
  const targets: Target[] = [];
  for (const t of state.targets) targets.push(rt.output(wasm.typedArrayFromHeap(t) as Float32Array));
  return { weight, bias, moment, targets };
}

/** Adam on every trained weight, from its gradient at `grad(p, j)` (one native call each), then the new β-powers. */
export function runAdam(
  rt: NativeRuntime,
  plan: Pick<StatePlan, 'params'>,
  state: KernelState,
  ops: StateOperands,
  grad: (p: TrainedParam, j: number) => { at: number; size: number },
): void {
  for (let j = 0; j < plan.params.length; j++) {
    const p = plan.params[j]!;
    const g = grad(p, j);
    const [m, v] = ops.moment[j]!;
    const operands: [number, number, number, number] = [
      p.isKernel ? ops.weight[p.layer]! : ops.bias[p.layer]!,
      m,
      v,
      g.at,
    ];
    const targets: [number, number, number] = [
      ops.targets[3 * j]!.addr,
      ops.targets[3 * j + 1]!.addr,
      ops.targets[3 * j + 2]!.addr,
    ];
    rt.run(adamParams(g.size, operands, targets, state.groupAdam[p.group]!), false);
  }
  state.commitBetaPowers();
}
