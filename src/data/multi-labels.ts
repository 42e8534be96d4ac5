// Label columns of a task's input source: a dataset's own `label`, the `left` / `right` labels of a
// two-object set, and labels derived from them (`parity`), all decoded from one packed label array.
import { isMultiDataset } from '../config/dataset-spec.ts';
import { InputError } from '../errors.ts';
import { loadMultiDataset, type MultiDatasetName, PACK } from './multi-datasets.ts';
import { loadRawDataset } from './registry.ts';
import type { LoaderOptions, RawDataset } from './types.ts';

/** One way of reading a label out of the packed `y` of a source. */
export interface LabelColumn {
  numClasses: number;
  classNames: string[];
  decode: (packed: number) => number;
}

/** The pixels and packed labels of one input, with the label columns it offers. */
export interface TaskSource {
  raw: RawDataset;
  columns: Record<string, LabelColumn>;
}

export async function loadTaskSource(spec: string, opts: LoaderOptions = {}): Promise<TaskSource> {
  if (isMultiDataset(spec)) {
    const multi = loadMultiDataset(spec as MultiDatasetName, opts);
    return {
      raw: multi.raw,
      columns: {
        left: { ...multi.left, decode: (y) => Math.floor(y / PACK) },
        right: { ...multi.right, decode: (y) => y % PACK },
      },
    };
  }
  const raw = await loadRawDataset(spec, opts);
  return { raw, columns: { label: { numClasses: raw.numClasses, classNames: raw.classNames, decode: (y) => y } } };
}

/** `label`, `left`, `right`, `parity` (= `label.parity`), `left.parity`…; InputError if the source lacks it. */
export function resolveLabels(source: TaskSource, labels: string, task: string): LabelColumn {
  const [columnName, derivation] = labels === 'parity' ? ['label', 'parity'] : (labels.split('.') as [string, string?]);
  const column = source.columns[columnName];
  if (!column) {
    const offered = Object.keys(source.columns).join(', ');
    throw new InputError(
      `task '${task}': dataset '${source.raw.spec}' has no '${columnName}' labels (it offers ${offered}, and their .parity)`,
    );
  }
  if (derivation === undefined) return column;
  // Parity of the class index: even/odd digit for MNIST (a classic auxiliary task on a shared input).
  return { numClasses: 2, classNames: ['even', 'odd'], decode: (y) => column.decode(y) % 2 };
}

export function decodeLabels(column: LabelColumn, packed: ArrayLike<number>): Int32Array {
  const out = new Int32Array(packed.length);
  for (let i = 0; i < packed.length; i++) out[i] = column.decode(packed[i]!);
  return out;
}
