// What a checkpoint expects and answers, read from preprocess.json (format 2 says it all) or, for
// checkpoints written before it did, from the input shape and model.json's metadata.
import { describeInput, type InputDescription } from '../data/input.ts';
import type { OutputDescription, Preprocess } from '../data/normalize.ts';
import { InputError } from '../errors.ts';

export interface ModelCard {
  input: InputDescription;
  /** One per model output, in output order. */
  outputs: OutputDescription[];
  /** Multi-task models answer per task (`tasks` in predictions); single-task models answer once. */
  multitask: boolean;
}

interface TaskMeta {
  name?: string;
  labels?: string;
  classNames?: string[];
}

/** Format-1 preprocess.json files lack `input` and `outputs`: the image shape and model.json say them. */
export function readModelCard(pre: Preprocess, metadata: Record<string, unknown>, outputCount: number): ModelCard {
  const input = pre.input ?? describeInput(pre.inputShape);
  const outputs = pre.outputs ?? outputsFromMetadata(metadata, outputCount);
  if (outputs.length !== outputCount) {
    throw new InputError(`checkpoint describes ${outputs.length} outputs but the model has ${outputCount}`);
  }
  return { input, outputs, multitask: Array.isArray(metadata.tasks) || outputCount > 1 };
}

function outputsFromMetadata(metadata: Record<string, unknown>, outputCount: number): OutputDescription[] {
  if (Array.isArray(metadata.tasks)) {
    return (metadata.tasks as TaskMeta[]).map((t, i) => ({
      name: t.name ?? `task${i}`,
      labels: t.labels ?? 'label',
      classes: t.classNames ?? [],
    }));
  }
  const classes = Array.isArray(metadata.classNames) ? (metadata.classNames as string[]) : [];
  if (outputCount !== 1 || classes.length === 0)
    throw new InputError('checkpoint has no class names (neither preprocess.json outputs nor model.json metadata)');
  return [{ name: 'label', labels: 'label', classes }];
}
