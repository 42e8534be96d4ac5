// Multi-task models: `hard` (one trunk, a head per task: a shared representation), `cross-stitch`
// (a column per task, learned linear mixing after every stage: parameters shared softly; Misra et
// al. 2016) and `mmoe` (shared experts, a softmax gate per task; Ma et al. 2018). Standard layers
// only, so checkpoints load with tf.loadLayersModel anywhere. Head layers are named `head_<task>…`.
import type { ModelConfig, MultitaskArchitecture } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import { InputError } from '../../errors.ts';
import type { Rng } from '../../random/rng.ts';
import { initializeWeights } from '../init.ts';
import { apply, applyStages, type Stage } from '../layers.ts';
import { modelStages } from '../registry.ts';

export interface HeadSpec {
  task: string;
  hidden: number[];
  classes: number;
}

export interface MultiTaskBuildOptions {
  architecture: MultitaskArchitecture;
  /** Model input shape, e.g. [28, 28, 1] for a CNN trunk or [784] for an MLP. */
  inputShape: number[];
  heads: HeadSpec[];
  /** MMoE experts. */
  experts: number;
  rng: Rng;
}

export interface MultiTaskModel {
  /** What is saved and evaluated: one probability output per task (`head_<task>_softmax`), in task order. */
  model: tf.LayersModel;
  /** Input → representations: one output (hard) or one per task (cross-stitch, mmoe). */
  trunk: tf.LayersModel;
  /** Which trunk output feeds each task's head. */
  repIndex: number[];
  /** Each task's head layers in order, the last one the logits layer `head_<task>`. */
  heads: tf.layers.Layer[][];
  /** Trunk layers with trainable weights (shared by tasks, fully or softly). */
  sharedLayers: tf.layers.Layer[];
  inputShape: number[];
}

/** Misra et al. 2016 initialise the mixing units near identity: α_same 0.9, α_different 0.1 (split evenly). */
export const STITCH_SAME = 0.9;

export function buildMultiTaskModel(config: ModelConfig, o: MultiTaskBuildOptions): MultiTaskModel {
  const stages = modelStages(config);
  if (stages.length === 0) throw new InputError('a multi-task trunk needs at least one layer (model.hidden is empty)');
  const input = tf.input({ shape: o.inputShape, name: 'input' });
  const T = o.heads.length;
  const units: StitchUnit[] = [];
  const built =
    o.architecture === 'hard'
      ? { reps: [applyStages(stages, input, '')], repIndex: o.heads.map(() => 0) }
      : o.architecture === 'cross-stitch'
        ? crossStitch(
            stages,
            input,
            o.heads.map((h) => h.task),
            units,
          )
        : mmoe(
            stages,
            input,
            o.heads.map((h) => h.task),
            o.experts,
          );
  const heads: tf.layers.Layer[][] = [];
  const probs = o.heads.map((spec, t) => {
    const layers = headLayers(spec);
    heads.push(layers);
    const logits = layers.reduce((h, l) => apply(l, h), built.reps[built.repIndex[t]!]!);
    return apply(tf.layers.activation({ activation: 'softmax', name: `head_${spec.task}_softmax` }), logits);
  });
  const model = tf.model({ inputs: input, outputs: probs, name: 'mtl_multitask' });
  initializeWeights(model.layers, o.rng);
  initStitchUnits(units, T);
  const trunk = tf.model({ inputs: input, outputs: built.reps, name: 'mtl_trunk' });
  const headSet = new Set(heads.flat());
  const sharedLayers = trunk.layers.filter((l) => !headSet.has(l) && l.trainableWeights.length > 0);
  return { model, trunk, repIndex: built.repIndex, heads, sharedLayers, inputShape: o.inputShape };
}

function headLayers(spec: HeadSpec): tf.layers.Layer[] {
  const hidden = spec.hidden.map((units, i) =>
    tf.layers.dense({ units, activation: 'relu', name: `head_${spec.task}_${i + 1}` }),
  );
  return [...hidden, tf.layers.dense({ units: spec.classes, name: `head_${spec.task}` })];
}

interface Reps {
  reps: tf.SymbolicTensor[];
  repIndex: number[];
}

/** A column per task; after every stage each column's input becomes a learned mix of all columns. */
function crossStitch(stages: Stage[], input: tf.SymbolicTensor, tasks: string[], units: StitchUnit[]): Reps {
  let columns = tasks.map(() => input);
  stages.forEach((stage, s) => {
    columns = columns.map((x, t) => stage(x, `col_${tasks[t]}_`));
    if (tasks.length > 1) columns = stitch(columns, tasks, s + 1, units);
  });
  return { reps: columns, repIndex: tasks.map((_, t) => t) };
}

/**
 * x̃_t = Σ_u α_tu x_u with standard layers: stack the columns on a last axis [F, T], then a bias-free
 * Dense(1) per task over that axis holds α_t· (its kernel is [T, 1]), then reshape back.
 */
function stitch(columns: tf.SymbolicTensor[], tasks: string[], n: number, units: StitchUnit[]): tf.SymbolicTensor[] {
  const shape = columns[0]!.shape.slice(1) as number[];
  const features = shape.reduce((a, b) => a * b, 1);
  const flat = columns.map((c, t) =>
    apply(tf.layers.reshape({ targetShape: [features, 1], name: `stitch_${n}_in_${tasks[t]}` }), c),
  );
  const stacked = apply(tf.layers.concatenate({ axis: -1, name: `stitch_${n}_stack` }), flat);
  return tasks.map((task, t) => {
    const unit = tf.layers.dense({ units: 1, useBias: false, name: `stitch_${n}_${task}` });
    units.push({ layer: unit, task: t });
    const mixed = apply(unit, stacked);
    return apply(tf.layers.reshape({ targetShape: shape, name: `stitch_${n}_out_${task}` }), mixed);
  });
}

interface StitchUnit {
  layer: tf.layers.Layer;
  /** The column this unit feeds. */
  task: number;
}

function initStitchUnits(units: StitchUnit[], T: number): void {
  const other = (1 - STITCH_SAME) / Math.max(T - 1, 1);
  for (const { layer, task } of units) {
    const alpha = tf.tensor2d(
      Array.from({ length: T }, (_, u) => (u === task ? STITCH_SAME : other)),
      [T, 1],
    );
    layer.setWeights([alpha]);
    alpha.dispose();
  }
}

/** E expert trunks; task t's representation is Σ_k g_t(x)_k · expert_k(x), g_t = softmax(W_t · flatten(x)). */
function mmoe(stages: Stage[], input: tf.SymbolicTensor, tasks: string[], experts: number): Reps {
  const outs = Array.from({ length: experts }, (_, k) => applyStages(stages, input, `expert_${k + 1}_`));
  const width = outs[0]!.shape[1] as number;
  const stacked =
    experts === 1
      ? apply(tf.layers.reshape({ targetShape: [width, 1], name: 'experts_stack' }), outs[0]!)
      : apply(
          tf.layers.concatenate({ axis: -1, name: 'experts_stack' }),
          outs.map((o, k) => apply(tf.layers.reshape({ targetShape: [width, 1], name: `expert_${k + 1}_out` }), o)),
        );
  const flatInput = input.shape.length > 2 ? apply(tf.layers.flatten({ name: 'gate_input' }), input) : input;
  const reps = tasks.map((task) => {
    const gate = apply(tf.layers.dense({ units: experts, activation: 'softmax', name: `gate_${task}` }), flatInput);
    return apply(tf.layers.dot({ axes: [2, 1], name: `mix_${task}` }), [stacked, gate]);
  });
  return { reps, repIndex: tasks.map((_, t) => t) };
}
