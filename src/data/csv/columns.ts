// Deciding what each column of a training table is: which columns are labels and features, whether a
// feature is numeric or a category (and its categories), and each label column's classes.
import type { MissingPolicy } from '../../config/types.ts';
import type { DataProblem } from '../../errors.ts';
import { MISSING_TOKENS, type TableColumn, type TableInput } from '../input.ts';
import { byteOrder, isMissing, parseNumber, sortClasses, unknownColumnMessage } from './cells.ts';
import type { CsvTable } from './read.ts';

/**
 * One-hot encoding a column with more categories than this is almost always an id or free text
 * column read as a feature; it is an error that points at data.ignore rather than a huge input layer.
 */
export const MAX_CATEGORIES = 1000;

export interface LayoutOptions {
  /** Label columns (one per task); may be empty for a table that is only encoded. */
  labels: string[];
  features: 'auto' | string[];
  categorical: string[];
  ignore: string[];
  missing: MissingPolicy;
  delimiter: string;
}

export interface LabelInfo {
  column: string;
  /** Class names in index order (numeric order when every value is a number, else byte order). */
  classes: string[];
}

export interface TableLayout {
  input: TableInput;
  labels: LabelInfo[];
}

/**
 * Fit the layout on the training rows; problems (unknown columns, bad cells, one class…) are appended.
 * An unknown column is reported and left out, so the rest of the table is still checked in this pass.
 */
export function fitTableLayout(table: CsvTable, o: LayoutOptions, problems: DataProblem[]): TableLayout {
  const known = new Set(table.header);
  const named = [...o.labels, ...(o.features === 'auto' ? [] : o.features), ...o.categorical, ...o.ignore];
  for (const name of new Set(named))
    if (!known.has(name)) problems.push({ file: table.file, message: unknownColumnMessage(name, table.header) });
  const features = featureColumns(
    table,
    { ...o, features: o.features === 'auto' ? 'auto' : o.features.filter((f) => known.has(f)) },
    problems,
  );
  const columns = features.map((name) => typeColumn(table, name, o.categorical.includes(name), problems));
  const labels = o.labels.map((column) =>
    known.has(column) ? labelInfo(table, column, problems) : { column, classes: [] },
  );
  const input: TableInput = {
    kind: 'table',
    columns,
    missing: o.missing,
    delimiter: o.delimiter,
    missingTokens: [...MISSING_TOKENS],
  };
  return { input, labels };
}

function featureColumns(table: CsvTable, o: LayoutOptions, problems: DataProblem[]): string[] {
  const file = table.file;
  if (o.features !== 'auto') {
    for (const name of o.features) {
      if (o.labels.includes(name)) problems.push({ file, column: name, message: 'is both a label and a feature' });
      if (o.ignore.includes(name)) problems.push({ file, column: name, message: 'is both ignored and a feature' });
    }
    return [...new Set(o.features)];
  }
  const features = table.header.filter((h) => !o.labels.includes(h) && !o.ignore.includes(h));
  if (features.length === 0)
    problems.push({ file, message: 'no feature columns: every column is a label or ignored (see data.features)' });
  return features;
}

function columnValues(table: CsvTable, name: string): string[] {
  const j = table.header.indexOf(name);
  return table.rows.map((r) => (r[j] ?? '').trim()).filter((v) => !isMissing(v));
}

/**
 * A column of numbers is numeric; a column of words is a category. A column of mostly numbers with a
 * few words is a numeric column with bad cells: each is reported (list it under data.categorical if
 * it really is a category).
 */
function typeColumn(table: CsvTable, name: string, categorical: boolean, problems: DataProblem[]): TableColumn {
  const values = columnValues(table, name);
  if (values.length === 0) {
    problems.push({ file: table.file, column: name, message: 'has no values in the training rows' });
    return { name, type: 'numeric' };
  }
  const numeric = values.filter((v) => parseNumber(v) !== null).length;
  if (categorical || numeric * 2 <= values.length) {
    const categories = [...new Set(values)].sort(byteOrder);
    if (categories.length > MAX_CATEGORIES) {
      problems.push({
        file: table.file,
        column: name,
        message: `${categories.length} distinct values: too many to one-hot (an id or free text?); list it under data.ignore`,
      });
    }
    return { name, type: 'category', categories };
  }
  return { name, type: 'numeric' };
}

function labelInfo(table: CsvTable, column: string, problems: DataProblem[]): LabelInfo {
  const classes = sortClasses(columnValues(table, column));
  if (classes.length < 2) {
    const what = classes.length === 0 ? 'no values' : `a single class ('${classes[0]}')`;
    problems.push({ file: table.file, column, message: `label column has ${what}: classification needs at least 2` });
  }
  return { column, classes };
}
