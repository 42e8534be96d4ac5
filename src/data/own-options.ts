// The data config keys that your own data reads (images:, csv:), as loader options, plus the
// self-describing parts of preprocess.json (what an input is, what each output means).
import type { DataConfig } from '../config/types.ts';
import { describeInput } from './input.ts';
import { type OutputDescription, PREPROCESS_FORMAT, type Preprocess } from './normalize.ts';
import type { OwnDataOptions, RawDataset } from './types.ts';

/** Loader options from `data:`; `labels` are the label columns a table must provide. */
export function ownDataOptions(data: DataConfig, labels: string[]): OwnDataOptions {
  return {
    test: data.test,
    image: data.image,
    labels,
    features: data.features,
    categorical: data.categorical,
    ignore: data.ignore,
    missing: data.missing,
    delimiter: data.delimiter,
  };
}

/** A fitted preprocess made self-describing: format 2 with `input` and `outputs`. */
export function describePreprocess(
  fitted: Preprocess,
  raw: Pick<RawDataset, 'inputShape' | 'input'>,
  outputs: OutputDescription[],
): Preprocess {
  return {
    format: PREPROCESS_FORMAT,
    inputShape: fitted.inputShape,
    steps: fitted.steps,
    input: fitted.input ?? describeInput(raw.inputShape, raw.input),
    outputs,
  };
}

/** The model's input shape: a fixed one, or what the model type makes of the dataset's shape. */
export type InputShapeOption = number[] | ((datasetShape: readonly number[]) => number[]);

export function resolveInputShape(option: InputShapeOption, datasetShape: readonly number[]): number[] {
  return typeof option === 'function' ? option(datasetShape) : option;
}

/** A checkpoint's image size and channels as loader options, so new images are decoded as it was trained. */
export function imageOptionsOf(pre: Preprocess): Pick<OwnDataOptions, 'image'> {
  const input = pre.input;
  return input?.kind === 'image' ? { image: { size: [input.height, input.width], channels: input.channels } } : {};
}

/** A checkpoint's table layout and classes as loader options, so rows are encoded as it was trained. */
export function tableOptionsOf(pre: Preprocess): Pick<OwnDataOptions, 'table' | 'classes'> {
  if (pre.input?.kind !== 'table') return {};
  const classes = Object.fromEntries((pre.outputs ?? []).map((o) => [o.labels, o.classes]));
  return { table: pre.input, classes };
}
