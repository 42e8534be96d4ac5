// Human output for the CLI: everything for people goes to stderr, so `--json` leaves stdout with
// exactly one JSON document. Colours follow NO_COLOR / FORCE_COLOR.
import chalk from 'chalk';
import { resumeCommandFor } from './options.ts';

export function configureColor(): void {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') {
    if (chalk.level === 0) chalk.level = 1;
    return;
  }
  if ((process.env.NO_COLOR ?? '') !== '' || force === '0' || force === 'false') chalk.level = 0;
}

export function say(line = ''): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonSafe, 2)}\n`);
}

/** NaN/Infinity are not JSON: they are written as null (e.g. AUC of a split with one class). */
function jsonSafe(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

export function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits);
}

export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(digits)}%`;
}

/** A plain aligned table (first column left-aligned, the rest right-aligned). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? padEnd(c, widths[i]!) : padStart(c, widths[i]!))).join('  ');
  return [chalk.bold(line(header)), ...rows.map(line)].join('\n');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every ANSI colour sequence
const ANSI = /\u001b\[[0-9;]*m/g;
function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}
function padEnd(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - visibleLength(s)));
}
function padStart(s: string, w: number): string {
  return ' '.repeat(Math.max(0, w - visibleLength(s))) + s;
}

/** An interrupted run's (or sweep's) last line: the command that continues it. */
export function sayHowToContinue(s: { status: string; runDir: string }, kind: string): void {
  if (s.status === 'interrupted') say(`continue it with: ${resumeCommandFor(kind, s.runDir)}`);
}
