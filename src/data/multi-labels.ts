// Label columns of a task's input source: a dataset's own `label`, the `left` / `right` labels of a
// two-object set, the label columns of a CSV table, and labels derived from them (`parity`), all
// decoded from one packed label array.
import { isMultiDataset, parseDatasetSpec } from '../config/dataset-spec.ts';
import { InputError } from '../errors.ts';
import { loadTable } from './csv/load.ts';
import { encodedWidth } from './input.ts';
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
  const parsed = parseDatasetSpec(spec);
  if (parsed.ok && parsed.spec.source === 'csv') return loadTableSource(spec, opts);
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

/**
 * A table's label columns (every task's `labels`), each a column of class indices (−1 = missing: that
 * row does not count in the task's loss or metrics). The packed label of a row is its row number,
 * training rows first, then test rows.
 */
function loadTableSource(spec: string, opts: LoaderOptions): TaskSource {
  const parsed = parseDatasetSpec(spec);
  if (!parsed.ok || parsed.spec.classes)
    throw new InputError(`dataset '${spec}': a class subset applies to one label column (single-task runs)`);
  const table = loadTable(parsed.spec.arg!, opts.own);
  const rows = (n: number, from: number): Int32Array => Int32Array.from({ length: n }, (_, i) => from + i);
  const f = encodedWidth(table.input.columns);
  const raw: RawDataset = {
    spec,
    name: `CSV ${parsed.spec.arg}`,
    inputShape: [f],
    numClasses: 0,
    classNames: [],
    train: { x: table.train.x, y: rows(table.train.n, 0), n: table.train.n },
    test: { x: table.test.x, y: rows(table.test.n, table.train.n), n: table.test.n },
    input: table.input,
    source: {
      origin: parsed.spec.arg!,
      skippedRecords: 0,
      fingerprint: table.fingerprint,
      ...(table.testSplit ? { testSplit: table.testSplit } : {}),
    },
  };
  const columns: Record<string, LabelColumn> = {};
  table.labels.forEach((l, k) => {
    const all = new Int32Array(table.train.n + table.test.n);
    all.set(table.train.labels[k]!, 0);
    all.set(table.test.labels[k]!, table.train.n);
    columns[l.column] = { numClasses: l.classes.length, classNames: l.classes, decode: (row) => all[row]! };
  });
  return { raw, columns };
}

/** `label`, `left`, `right`, `parity` (= `label.parity`), `left.parity`, a CSV column…; InputError if the source lacks it. */
export function resolveLabels(source: TaskSource, labels: string, task: string): LabelColumn {
  // A CSV column is named exactly, dots and all.
  const exact = source.columns[labels];
  if (exact) return exact;
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
