// Re-evaluation of a saved run (`mtl eval`): load a checkpoint, rebuild the requested split exactly
// as the run saw it, apply the checkpoint's own preprocess.json, and score it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigText } from '../../config/load.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { applyPreprocess } from '../../data/normalize.ts';
import { imageOptionsOf, ownDataOptions, tableOptionsOf } from '../../data/own-options.ts';
import { prepareData } from '../../data/prepare.ts';
import { loadRawDataset } from '../../data/registry.ts';
import { InputError, UsageError } from '../../errors.ts';
import { type EvaluationDetail, evaluationDetail } from '../../metrics/detail.ts';
import { type ClassificationMetrics, classificationReport } from '../../metrics/report.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { disposeSplit, toDevice } from '../device-data.ts';
import { predictProbs } from './classifier.ts';

export type EvalSplit = 'test' | 'val';
export type CheckpointName = 'best' | 'last';

export interface EvalRequest {
  runId: string;
  runDir: string;
  checkpoint: CheckpointName;
  /** Dataset spec; defaults to the run's own `data.dataset`. */
  dataset?: string;
  split: EvalSplit;
}

export interface EvalResult {
  runId: string;
  checkpoint: CheckpointName;
  dataset: string;
  split: EvalSplit;
  metrics: ClassificationMetrics;
  examples: number;
  /** Class names and ROC curves for the eval file (what `mtl report` draws). */
  detail: EvaluationDetail;
}

export function readRunConfig(runDir: string): ResolvedConfig {
  const file = join(runDir, 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`run folder ${runDir} has no config.yaml`);
  }
  return loadConfigText(text, { file }).config;
}

export async function evaluateRun(req: EvalRequest): Promise<EvalResult> {
  const config = readRunConfig(req.runDir);
  if (config.trainer.mode === 'multitask') {
    throw new UsageError(
      `run ${req.runId} is multi-task: its summary.json has each task's test metrics; \`mtl predict ${req.runId} <inputs>\` scores new labelled inputs per task`,
    );
  }
  const ckpt = await loadCheckpoint(join(req.runDir, 'checkpoints', req.checkpoint));
  const dataset = req.dataset ?? config.data.dataset;
  const inputShape = ckpt.preprocess.inputShape;
  let split: { x: Float32Array; y: ArrayLike<number>; n: number };
  let numClasses: number;
  let classNames: string[];
  if (req.split === 'val') {
    // The validation split is re-carved from the training data with the run's own seed and limit.
    const data = await prepareData({ ...config.data, dataset }, config.seed, { inputShape });
    if (data.val.n === 0) throw new InputError(`run ${req.runId} has no validation split (data.validation is 0)`);
    split = data.val;
    numClasses = data.dataset.numClasses;
    classNames = data.dataset.classNames;
  } else {
    // Your own data is decoded / encoded exactly as the checkpoint was trained (its size, its columns).
    const own = {
      ...ownDataOptions(config.data, [config.data.label]),
      ...imageOptionsOf(ckpt.preprocess),
      ...tableOptionsOf(ckpt.preprocess),
    };
    const raw = await loadRawDataset(dataset, { own });
    split = { x: applyPreprocess(ckpt.preprocess, raw.test.x, raw.test.n), y: raw.test.y, n: raw.test.n };
    numClasses = raw.numClasses;
    classNames = raw.classNames;
  }
  const outputs = ckpt.model.outputs[0]!.shape[1] as number;
  if (outputs !== numClasses) {
    throw new InputError(
      `dataset '${dataset}' has ${numClasses} classes but the model of run ${req.runId} predicts ${outputs}`,
    );
  }
  const device = toDevice(split, inputShape);
  const probs = predictProbs(ckpt.model, device.x);
  disposeSplit(device);
  ckpt.model.dispose();
  const metrics = classificationReport(split.y, probs, numClasses);
  return {
    runId: req.runId,
    checkpoint: req.checkpoint,
    dataset,
    split: req.split,
    metrics,
    examples: split.n,
    detail: evaluationDetail({ dataset, classNames, yTrue: split.y, probs, report: metrics }),
  };
}
