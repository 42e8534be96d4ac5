// `csv:<file>`: a table with a header row → train/test splits of encoded features and label columns.
// The test split is a test file (data.test: <file>) or a stratified fraction held out with a fixed
// seed; the columns are typed and categories collected on the training rows only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DataError, type DataProblem } from '../../errors.ts';
import { HOLDOUT_SEED, holdoutSplit } from '../holdout.ts';
import { encodedWidth, type TableInput } from '../input.ts';
import type { OwnDataOptions, RawDataset } from '../types.ts';
import { isMissing } from './cells.ts';
import { fitTableLayout, type LabelInfo } from './columns.ts';
import { encodeFeatures, encodeLabels, NO_LABEL, UNKNOWN_LABEL } from './encode.ts';
import { type CsvTable, readCsv } from './read.ts';

/** One split of a table: encoded features and, per label column, class indices (NO_LABEL = missing). */
export interface TableSplit {
  x: Float64Array;
  labels: Int32Array[];
  n: number;
}

export interface LoadedTable {
  file: string;
  input: TableInput;
  labels: LabelInfo[];
  train: TableSplit;
  test: TableSplit;
  testSplit?: { fraction: number; seed: number; stratifiedBy: string };
  fingerprint: string;
}

const DEFAULT_TEST = 0.2;

/** Read, split, type and encode a table; every problem found is thrown together in one DataError. */
export function loadTable(file: string, own: OwnDataOptions = {}): LoadedTable {
  const delimiter = own.delimiter ?? ',';
  const labelColumns = own.labels ?? ['label'];
  const problems: DataProblem[] = [];
  const all = readCsv(file, delimiter, problems);
  const test = own.test ?? DEFAULT_TEST;
  const split =
    typeof test === 'string'
      ? { train: all, test: readCsv(test, delimiter, problems) }
      : holdOut(all, labelColumns[0]!, test);
  const layout = own.table
    ? { input: own.table, labels: labelColumns.map((column) => ({ column, classes: own.classes?.[column] ?? [] })) }
    : fitTableLayout(split.train, layoutOptions(own, labelColumns, delimiter), problems);
  const encode = (t: CsvTable): TableSplit => encodeSplit(t, layout.input, layout.labels, problems);
  const train = encode(split.train);
  const testSplit = encode(split.test);
  if (problems.length > 0) throw new DataError(problems, `cannot use ${file}`);
  return {
    file,
    input: layout.input,
    labels: layout.labels,
    train,
    test: testSplit,
    ...(typeof test === 'number'
      ? { testSplit: { fraction: test, seed: HOLDOUT_SEED, stratifiedBy: labelColumns[0]! } }
      : {}),
    fingerprint: fingerprintOf([file, ...(typeof test === 'string' ? [test] : [])], { ...own, labels: labelColumns }),
  };
}

function layoutOptions(own: OwnDataOptions, labels: string[], delimiter: string) {
  return {
    labels,
    features: own.features ?? 'auto',
    categorical: own.categorical ?? [],
    ignore: own.ignore ?? [],
    missing: own.missing ?? 'error',
    delimiter,
  } as const;
}

/** Stratified by the (first) label column's raw values; a row without a label is a stratum of its own. */
function holdOut(table: CsvTable, labelColumn: string, fraction: number): { train: CsvTable; test: CsvTable } {
  const j = table.header.indexOf(labelColumn);
  const strata = table.rows.map((r) => (j < 0 || isMissing(r[j] ?? '') ? '\u0000missing' : r[j]!.trim()));
  const idx = holdoutSplit(strata, fraction);
  const pick = (rows: Int32Array): CsvTable => ({
    ...table,
    rows: Array.from(rows, (i) => table.rows[i]!),
    rowNumbers: Array.from(rows, (i) => table.rowNumbers[i]!),
    lines: Array.from(rows, (i) => table.lines[i]!),
  });
  return { train: pick(idx.train), test: pick(idx.test) };
}

function encodeSplit(table: CsvTable, input: TableInput, labels: LabelInfo[], problems: DataProblem[]): TableSplit {
  const { x } = encodeFeatures(table, input, problems);
  const tokens = new Set(input.missingTokens);
  const encoded = labels.map((l) => {
    const y = encodeLabels(table, l.column, l.classes, tokens);
    y.forEach((v, i) => {
      if (v !== UNKNOWN_LABEL) return;
      const cell = table.rows[i]![table.header.indexOf(l.column)]!.trim();
      problems.push({
        file: table.file,
        row: table.rowNumbers[i]!,
        line: table.lines[i]!,
        column: l.column,
        message: `label '${cell}' is not a class of the training rows (${l.classes.join(', ')})`,
      });
    });
    return y;
  });
  return { x, labels: encoded, n: table.rows.length };
}

/** sha256 over the files' names, sizes and contents and the settings that shape the encoding. */
function fingerprintOf(files: string[], settings: OwnDataOptions): string {
  const h = createHash('sha256');
  for (const f of files) {
    const bytes = readFileSync(f);
    h.update(`${path.resolve(f)}\0${bytes.length}\0`).update(bytes);
  }
  const { image: _image, ...rest } = settings;
  return h.update(JSON.stringify(rest)).digest('hex');
}

/**
 * The single-task dataset of `csv:<file>`: the label column own.labels[0] (data.label). A row without
 * a label cannot train or test anything: it is left out and counted (Ludwig's drop_row default).
 */
export function loadCsvDataset(file: string, spec: string, own: OwnDataOptions = {}): RawDataset {
  const table = loadTable(file, own);
  const label = table.labels[0]!;
  const f = encodedWidth(table.input.columns);
  const keep = (s: TableSplit): { x: Float64Array; y: Int32Array; n: number } => {
    const rows = [...s.labels[0]!.keys()].filter((i) => s.labels[0]![i] !== NO_LABEL);
    const x = new Float64Array(rows.length * f);
    rows.forEach((r, k) => {
      x.set(s.x.subarray(r * f, (r + 1) * f), k * f);
    });
    return { x, y: Int32Array.from(rows, (r) => s.labels[0]![r]!), n: rows.length };
  };
  const train = keep(table.train);
  const test = keep(table.test);
  const skipped = table.train.n - train.n + table.test.n - test.n;
  return {
    spec,
    name: `CSV ${path.basename(file)} (${label.column})`,
    inputShape: [f],
    numClasses: label.classes.length,
    classNames: label.classes,
    train,
    test,
    input: table.input,
    source: {
      origin: path.resolve(file),
      skippedRecords: skipped,
      fingerprint: table.fingerprint,
      ...(table.testSplit ? { testSplit: table.testSplit } : {}),
    },
  };
}
