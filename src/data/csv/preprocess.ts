// Normalization of a table, fitted on the training split: numeric columns standardized (or min-max
// scaled), one-hot features left as 0/1, missing numbers filled with the training mean. The result is
// ordinary preprocess steps plus the statistics written into the columns of preprocess.json.
import type { NormalizeKind } from '../../config/types.ts';
import { DataError } from '../../errors.ts';
import { encodedWidth, type TableColumn, type TableInput } from '../input.ts';
import type { Preprocess, PreprocessStep } from '../normalize.ts';
import type { Split } from '../types.ts';

interface ColumnStats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, population std (ddof 0, sklearn's StandardScaler), min and max of feature `j`, NaNs skipped. */
export function columnStats(x: ArrayLike<number>, n: number, f: number, j: number): ColumnStats | null {
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = x[i * f + j]!;
    if (Number.isNaN(v)) continue;
    count += 1;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (count === 0) return null;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i * f + j]!;
    if (!Number.isNaN(v)) sq += (v - mean) * (v - mean);
  }
  return { mean, std: Math.sqrt(sq / count), min, max };
}

/**
 * The steps for a table: `fillMissing` (data.missing: mean) then one affine `standardize` whose
 * mean/std are, per numeric column, its mean/std (`standardize`) or min/range (`scale01`), and 0/1 for
 * one-hot features. A constant column gets std 1 (sklearn's rule), so it maps to 0.
 */
export function fitTablePreprocess(kind: NormalizeKind, train: Split, input: TableInput): Preprocess {
  const f = encodedWidth(input.columns);
  const fill = new Array<number>(f).fill(0);
  const mean = new Array<number>(f).fill(0);
  const std = new Array<number>(f).fill(1);
  const columns: TableColumn[] = [];
  const empty: string[] = [];
  let j = 0;
  for (const column of input.columns) {
    if (column.type === 'category') {
      columns.push(column);
      j += column.categories.length;
      continue;
    }
    const s = columnStats(train.x, train.n, f, j);
    if (!s) empty.push(column.name);
    const st = s ?? { mean: 0, std: 1, min: 0, max: 0 };
    fill[j] = st.mean;
    if (kind === 'standardize') [mean[j], std[j]] = [st.mean, st.std || 1];
    if (kind === 'scale01') [mean[j], std[j]] = [st.min, st.max - st.min || 1];
    columns.push({ ...column, ...st });
    j += 1;
  }
  if (empty.length > 0) {
    throw new DataError(
      empty.map((name) => ({
        file: 'training split',
        column: name,
        message: 'no values to fit on (every cell missing)',
      })),
    );
  }
  const steps: PreprocessStep[] = [];
  if (input.missing === 'mean') steps.push({ op: 'fillMissing', values: fill });
  if (kind !== 'none') steps.push({ op: 'standardize', mean, std });
  return { inputShape: [f], steps, input: { ...input, columns } };
}
