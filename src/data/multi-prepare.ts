// Data for a multi-task run: tasks grouped by input (one group = single-input, several labels; one
// group per dataset = multi-input), each group split and sampled as prepareData does, one
// normalization fitted on all training inputs (one trunk sees every input, so all share one shape).
import type { DataConfig, TaskConfig } from '../config/types.ts';
import { InputError } from '../errors.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { decodeLabels, loadTaskSource, resolveLabels } from './multi-labels.ts';
import { fitPreprocess, type Preprocess } from './normalize.ts';
import { describePreprocess, type InputShapeOption, ownDataOptions, resolveInputShape } from './own-options.ts';
import { type LazyFeatures, lazyFeatures, limitedValSize } from './prepare.ts';
import { carveValidation, sampleSplit } from './splits.ts';
import type { FeatureArray, LoaderOptions, RawDataset, Split } from './types.ts';

export type GroupSplit = LazyFeatures;

/** One input source shared by the tasks that read labels from it. */
export interface InputGroup {
  dataset: string;
  name: string;
  train: GroupSplit;
  val: GroupSplit;
  test: GroupSplit;
  /** Raw training inputs (0–255 pixels, or a table's encoded columns), for teachers that normalise inputs their own way. */
  rawTrain: FeatureArray;
}

export interface PreparedTask {
  name: string;
  /** Index into MultiTaskData.groups. */
  group: number;
  /** Head size: task.head.classes, else the classes of its labels. */
  numClasses: number;
  classNames: string[];
  /** Class indices; −1 marks a row without this label (a table's empty cell): it is left out of loss and metrics. */
  labels: { train: Int32Array; val: Int32Array; test: Int32Array };
}

export interface MultiTaskData {
  groups: InputGroup[];
  tasks: PreparedTask[];
  preprocess: Preprocess;
  /** Shape of one example as the datasets give it: [28, 28, 1] for MNIST, [features] for a table. */
  imageShape: number[];
  /** Every seed used, by label (docs/design.md: every seed used is recorded). */
  seeds: Record<string, number>;
}

export interface MultiPrepareOptions extends LoaderOptions {
  /** What the model consumes: [784] for an MLP trunk, [28, 28, 1] for a CNN (or a function of the data's shape). */
  inputShape: InputShapeOption;
}

interface RawGroup {
  dataset: string;
  name: string;
  train: Split;
  val: Split;
  test: Split;
}

/** The test split is only preprocessed here, never sampled: selection uses validation only. */
export async function prepareMultiTaskData(
  data: DataConfig,
  tasks: readonly TaskConfig[],
  seed: number,
  opts: MultiPrepareOptions,
): Promise<MultiTaskData> {
  const datasets = [...new Set(tasks.map((t) => t.dataset ?? data.dataset))];
  const seeds: Record<string, number> = {};
  const raws: RawGroup[] = [];
  const sources: RawDataset[] = [];
  const prepared: PreparedTask[] = [];
  for (const [g, dataset] of datasets.entries()) {
    const mine = tasks.filter((t) => (t.dataset ?? data.dataset) === dataset);
    const own = ownDataOptions(data, [...new Set(mine.map((t) => t.labels))]);
    const source = await loadTaskSource(dataset, { ...opts, own });
    sources.push(source.raw);
    const tag = dataset === data.dataset ? '' : `:${dataset}`;
    const group = carveGroup(source.raw.train, data, seed, tag, seeds);
    raws.push({ dataset, name: source.raw.name, ...group, test: source.raw.test });
    for (const task of mine) {
      const column = resolveLabels(source, task.labels, task.name);
      const numClasses = task.head.classes ?? column.numClasses;
      if (numClasses < column.numClasses) {
        throw new InputError(
          `task '${task.name}': head.classes is ${numClasses} but its labels have ${column.numClasses} classes`,
        );
      }
      const decode = (s: Split): Int32Array => decodeLabels(column, s.y);
      prepared.push({
        name: task.name,
        group: g,
        numClasses,
        classNames: column.classNames,
        labels: { train: decode(group.train), val: decode(group.val), test: decode(source.raw.test) },
      });
    }
  }
  const first = checkSameShape(sources);
  const inputShape = resolveInputShape(opts.inputShape, first.inputShape);
  const fitted = fitPreprocess(data.normalize, concatSplits(raws.map((r) => r.train)), inputShape, first.input);
  const outputs = tasks.map((t) => {
    const p = prepared.find((q) => q.name === t.name)!;
    return { name: t.name, labels: t.labels, classes: p.classNames };
  });
  const preprocess = describePreprocess(fitted, first, outputs);
  const finish = (s: Split): GroupSplit => lazyFeatures(s, preprocess);
  const groups = raws.map((r) => ({
    dataset: r.dataset,
    name: r.name,
    train: finish(r.train),
    val: finish(r.val),
    test: finish(r.test),
    rawTrain: r.train.x,
  }));
  // Keep tasks in config order (grouping above visits them by dataset).
  const order = tasks.map((t) => prepared.find((p) => p.name === t.name)!);
  return { groups, tasks: order, preprocess, imageShape: [...first.inputShape], seeds };
}

/** One trunk takes every input group: their shapes (and a table's columns) must agree. */
function checkSameShape(sources: RawDataset[]): RawDataset {
  const first = sources[0]!;
  for (const s of sources.slice(1)) {
    if (s.inputShape.join('x') !== first.inputShape.join('x') || s.input?.kind === 'table') {
      throw new InputError(
        `tasks' datasets must share one input shape for one trunk: '${first.spec}' is [${first.inputShape}], '${s.spec}' is [${s.inputShape}]` +
          (s.input?.kind === 'image' ? ' (set data.image.size and data.image.channels)' : ''),
      );
    }
  }
  return first;
}

/** Validation carved with the run's seed, then --limit; the same recipe as prepareData. */
function carveGroup(
  train: Split,
  data: DataConfig,
  seed: number,
  tag: string,
  seeds: Record<string, number>,
): { train: Split; val: Split } {
  // Every seed drawn is recorded under its key (run.json lists them).
  const draw = (key: string, label: string): number => {
    seeds[key] = deriveSeed(seed, label);
    return seeds[key];
  };
  let { train: tr, val } = carveValidation(train, data.validation, draw(`valSplit${tag}`, `val-split${tag}`));
  if (data.limit !== null) {
    tr = sampleSplit(tr, data.limit, new Rng(draw(`limit${tag}`, `limit${tag}`)));
    val = sampleSplit(
      val,
      limitedValSize(data.limit, data.validation),
      new Rng(draw(`limitVal${tag}`, `limit-val${tag}`)),
    );
  }
  return { train: tr, val };
}

function concatSplits(splits: Split[]): Split {
  if (splits.length === 1) return splits[0]!;
  const n = splits.reduce((a, s) => a + s.n, 0);
  const width = splits.reduce((a, s) => a + s.x.length, 0);
  const x: FeatureArray = splits[0]!.x instanceof Float64Array ? new Float64Array(width) : new Uint8Array(width);
  const y = new Int32Array(n);
  let xo = 0;
  let yo = 0;
  for (const s of splits) {
    x.set(s.x, xo);
    y.set(s.y, yo);
    xo += s.x.length;
    yo += s.n;
  }
  return { x, y, n };
}
