// The terminal table of `mtl runs compare`: differing config keys, then metrics side by side, with
// the difference of two runs in its own column.
import chalk from 'chalk';
import { type CompareRow, type Comparison, formatCell } from '../report/compare.ts';
import { table } from './output.ts';

/** Above this many runs the columns are lettered (A, B, …) with a legend, to stay within a terminal. */
const MAX_NAMED_COLUMNS = 3;

export function formatComparison(c: Comparison, all: boolean): string {
  const lettered = c.runs.length > MAX_NAMED_COLUMNS;
  const names = c.runs.map((r, i) => (lettered ? String.fromCharCode(65 + i) : r.id));
  const two = c.runs.length === 2;
  const header = (first: string) => [first, ...names, ...(two ? ['Δ (2nd − 1st)'] : [])];
  const lines: string[] = [];
  if (lettered) for (const [i, r] of c.runs.entries()) lines.push(`${names[i]}  ${r.id}  (${r.kind}, ${r.status})`);
  const configTitle = all
    ? `config (${c.config.length} keys; differing ones in bold)`
    : c.config.length === 0
      ? `config: identical (${c.sameKeys} keys)`
      : `config keys that differ (${c.sameKeys} others are equal)`;
  lines.push(chalk.bold(configTitle));
  if (c.config.length > 0)
    lines.push(
      table(
        header('key'),
        c.config.map((r) => rowCells(r, two, all)),
      ),
    );
  lines.push(
    '',
    chalk.bold('metrics'),
    table(
      header('metric'),
      c.metrics.map((r) => rowCells(r, two, true)),
    ),
  );
  return lines.join('\n');
}

function rowCells(r: CompareRow, two: boolean, emphasise: boolean): string[] {
  const key = emphasise && r.differs ? chalk.bold(r.key) : r.key;
  return [key, ...r.values.map((v) => formatCell(v, r.format)), ...(two ? [difference(r)] : [])];
}

/** Second minus first for numbers (percentage points for accuracies), blank otherwise. */
function difference(r: CompareRow): string {
  const [a, b] = r.values;
  if (typeof a !== 'number' || typeof b !== 'number') return '';
  if (a === b) return '0';
  if (r.format === 'pct') return formatCell((b - a) * 100, 'pp');
  if (r.format === 'pp') return formatCell(b - a, 'pp');
  const d = b - a;
  const digits = r.format === 'num' ? 4 : r.format === 'sec' ? 2 : null;
  // Config values and counts: as many digits as the difference needs (0.001 − 0.0003 = 0.0007).
  const text = digits === null ? String(Number(Math.abs(d).toPrecision(6))) : Math.abs(d).toFixed(digits);
  return `${d > 0 ? '+' : '−'}${text}`;
}
