// `mtl predict`: a checkpoint and new inputs → one prediction per input (class and probabilities,
// per task for multi-task models), and accuracy where the inputs carry their true labels.
import { join } from 'node:path';
import { applyPreprocess } from '../data/normalize.ts';
import { tf } from '../engine/backend/tf.ts';
import { InputError } from '../errors.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { type PredictInputs, readImageInputs, readTableInputs } from './inputs.ts';
import { type ModelCard, readModelCard } from './model-card.ts';

export interface TaskPrediction {
  class: string;
  /** Class → probability; all classes in class order, or the `top` most probable, most probable first. */
  probabilities: Record<string, number>;
}

/** Single-task: `class` and `probabilities`; multi-task: `tasks`. */
export type Prediction = { input: string } & (TaskPrediction | { tasks: Record<string, TaskPrediction> });

export interface TaskAccuracy {
  accuracy: number;
  /** Inputs whose true label was known. */
  examples: number;
}

export interface PredictResult {
  runId: string;
  checkpoint: string;
  predictions: Prediction[];
  /** Per task, for inputs with known labels (class sub-folders, label columns). */
  accuracy: Record<string, TaskAccuracy>;
}

export interface PredictRequest {
  runId: string;
  runDir: string;
  checkpoint: 'best' | 'last';
  inputs: string[];
  /** Keep only the K most probable classes per prediction (default: all, in class order). */
  top?: number;
}

export async function predictRun(req: PredictRequest): Promise<PredictResult> {
  const ckpt = await loadCheckpoint(join(req.runDir, 'checkpoints', req.checkpoint));
  try {
    const card = readModelCard(ckpt.preprocess, ckpt.metadata, ckpt.model.outputs.length);
    const inputs = readInputs(card, req.inputs);
    const probs = predictOutputs(
      ckpt.model,
      applyPreprocess(ckpt.preprocess, inputs.x, inputs.n),
      inputs.n,
      ckpt.preprocess.inputShape,
    );
    return {
      runId: req.runId,
      checkpoint: req.checkpoint,
      predictions: inputs.names.map((name, i) => predictionFor(card, probs, name, i, req.top)),
      accuracy: accuracyOf(card, probs, inputs),
    };
  } finally {
    ckpt.model.dispose();
  }
}

function readInputs(card: ModelCard, inputs: string[]): PredictInputs {
  if (inputs.length === 0) throw new InputError('nothing to predict: name image files, image folders or CSV files');
  return card.input.kind === 'table'
    ? readTableInputs(inputs, card.input, card.outputs)
    : readImageInputs(inputs, card.input, card.outputs);
}

/** Probabilities [n × classes] per output, inference mode, in batches. */
function predictOutputs(
  model: tf.LayersModel,
  x: Float32Array,
  n: number,
  shape: number[],
  batch = 1000,
): Float32Array[] {
  const per = x.length / Math.max(n, 1);
  const parts: Float32Array[][] = model.outputs.map(() => []);
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const out = tf.tidy(() => {
      const res = model.predict(tf.tensor(x.subarray(start * per, (start + size) * per), [size, ...shape]), {
        batchSize: size,
      });
      return Array.isArray(res) ? res : [res];
    });
    out.forEach((t, k) => {
      parts[k]!.push(t.dataSync() as Float32Array);
    });
    tf.dispose(out);
  }
  return parts.map((p) => {
    const all = new Float32Array(p.reduce((a, q) => a + q.length, 0));
    let o = 0;
    for (const q of p) {
      all.set(q, o);
      o += q.length;
    }
    return all;
  });
}

function taskPrediction(classes: string[], probs: Float32Array, i: number, top?: number): TaskPrediction {
  const row = Array.from(probs.subarray(i * classes.length, (i + 1) * classes.length));
  const best = row.reduce((b, p, k) => (p > row[b]! ? k : b), 0);
  const order =
    top === undefined ? classes.map((_, k) => k) : [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, top);
  return { class: classes[best]!, probabilities: Object.fromEntries(order.map((k) => [classes[k]!, row[k]!])) };
}

function predictionFor(card: ModelCard, probs: Float32Array[], input: string, i: number, top?: number): Prediction {
  if (!card.multitask) return { input, ...taskPrediction(card.outputs[0]!.classes, probs[0]!, i, top) };
  const tasks = Object.fromEntries(card.outputs.map((o, k) => [o.name, taskPrediction(o.classes, probs[k]!, i, top)]));
  return { input, tasks };
}

/** Accuracy on the inputs whose label is known; a label that is not a class counts as wrong. */
function accuracyOf(card: ModelCard, probs: Float32Array[], inputs: PredictInputs): Record<string, TaskAccuracy> {
  const out: Record<string, TaskAccuracy> = {};
  card.outputs.forEach((o, k) => {
    const c = o.classes.length;
    let right = 0;
    let known = 0;
    inputs.labels[k]!.forEach((y, i) => {
      if (y === -1) return;
      known += 1;
      const row = probs[k]!.subarray(i * c, (i + 1) * c);
      if (y >= 0 && row.indexOf(Math.max(...row)) === y) right += 1;
    });
    if (known > 0) out[o.name] = { accuracy: right / known, examples: known };
  });
  return out;
}
