// Turning table rows into numbers with a fitted layout: numeric cells as floats (NaN = missing, when
// data.missing allows it), categories one-hot, labels as class indices. Used for training, test
// files, `mtl eval` and `mtl predict`, so a checkpoint's layout encodes new rows exactly as it was trained.
import type { DataProblem } from '../../errors.ts';
import { encodedWidth, type TableColumn, type TableInput } from '../input.ts';
import { isMissing, parseNumber } from './cells.ts';
import type { CsvTable } from './read.ts';

/** Label codes besides class indices. */
export const NO_LABEL = -1;
export const UNKNOWN_LABEL = -2;

export interface EncodedFeatures {
  x: Float64Array;
  /** Cells holding a category the training rows never had (encoded as no category), by column. */
  unseen: Record<string, number>;
}

/** Encode every row; each bad cell (or a column the file lacks) is appended to `problems`. */
export function encodeFeatures(table: CsvTable, input: TableInput, problems: DataProblem[]): EncodedFeatures {
  const f = encodedWidth(input.columns);
  const x = new Float64Array(table.rows.length * f);
  const unseen: Record<string, number> = {};
  const tokens = new Set(input.missingTokens);
  let offset = 0;
  for (const column of input.columns) {
    const j = table.header.indexOf(column.name);
    if (j < 0) {
      problems.push({ file: table.file, column: column.name, message: 'missing: the model needs this column' });
    } else {
      const ctx: ColumnContext = { table, j, offset, f, x, tokens, missing: input.missing, problems };
      const count = column.type === 'numeric' ? encodeNumeric(ctx, column) : encodeCategory(ctx, column);
      if (count > 0) unseen[column.name] = count;
    }
    offset += column.type === 'numeric' ? 1 : column.categories.length;
  }
  return { x, unseen };
}

interface ColumnContext {
  table: CsvTable;
  /** The column's index in the file. */
  j: number;
  /** The column's first feature in an encoded row of `f` features. */
  offset: number;
  f: number;
  x: Float64Array;
  tokens: ReadonlySet<string>;
  missing: TableInput['missing'];
  problems: DataProblem[];
}

function problem(ctx: ColumnContext, i: number, column: string, message: string): void {
  const t = ctx.table;
  ctx.problems.push({ file: t.file, row: t.rowNumbers[i]!, line: t.lines[i]!, column, message });
}

const MISSING_HINT = 'missing value (data.missing: mean fills it from the training rows)';

function encodeNumeric(ctx: ColumnContext, column: TableColumn): number {
  ctx.table.rows.forEach((row, i) => {
    const cell = row[ctx.j] ?? '';
    let v: number | null;
    if (isMissing(cell, ctx.tokens)) {
      if (ctx.missing !== 'mean') problem(ctx, i, column.name, MISSING_HINT);
      v = Number.NaN;
    } else {
      v = parseNumber(cell);
      if (v === null)
        problem(ctx, i, column.name, `'${cell}' is not a number (a category? list the column under data.categorical)`);
    }
    ctx.x[i * ctx.f + ctx.offset] = v ?? Number.NaN;
  });
  return 0;
}

function encodeCategory(ctx: ColumnContext, column: Extract<TableColumn, { type: 'category' }>): number {
  const index = new Map(column.categories.map((c, k) => [c, k]));
  let unseen = 0;
  ctx.table.rows.forEach((row, i) => {
    const cell = (row[ctx.j] ?? '').trim();
    if (isMissing(cell, ctx.tokens)) {
      if (ctx.missing !== 'mean') problem(ctx, i, column.name, MISSING_HINT);
      return;
    }
    const k = index.get(cell);
    // A category never seen in training has no feature of its own: all of the column's features stay 0.
    if (k === undefined) unseen += 1;
    else ctx.x[i * ctx.f + ctx.offset + k] = 1;
  });
  return unseen;
}

/** Class index per row; NO_LABEL for a missing cell, UNKNOWN_LABEL for a value that is not a class. */
export function encodeLabels(
  table: CsvTable,
  column: string,
  classes: readonly string[],
  tokens: ReadonlySet<string>,
): Int32Array {
  const j = table.header.indexOf(column);
  const index = new Map(classes.map((c, k) => [c, k]));
  return Int32Array.from(table.rows, (row) => {
    const cell = (row[j] ?? '').trim();
    if (isMissing(cell, tokens)) return NO_LABEL;
    return index.get(cell) ?? UNKNOWN_LABEL;
  });
}
