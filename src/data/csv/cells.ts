// Reading single cells of a table: missing values, numbers, and the orders classes and categories are
// sorted in. Shared by column typing, encoding and `mtl predict`.
import { editDistance } from '../../text.ts';
import { MISSING_TOKENS } from '../input.ts';

const MISSING = new Set(MISSING_TOKENS);
/** A decimal number as pandas reads one (no thousands separators, no `inf`, no hex). */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isMissing(cell: string, tokens: ReadonlySet<string> = MISSING): boolean {
  return tokens.has(cell.trim());
}

/** The cell as a finite number, or null when it is not one. */
export function parseNumber(cell: string): number | null {
  const t = cell.trim();
  if (!NUMBER.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** Byte order of the UTF-8 encodings: the same on every machine and locale (Keras sorts class folders so). */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Class names in index order: numerically when every value is a number (so 2 < 10, as sklearn's
 * LabelEncoder sorts numbers), else in byte order.
 */
export function sortClasses(values: Iterable<string>): string[] {
  const distinct = [...new Set(values)];
  const numbers = distinct.map(parseNumber);
  if (numbers.every((v) => v !== null)) {
    return distinct
      .map((s, i) => ({ s, v: numbers[i]! }))
      .sort((a, b) => a.v - b.v || byteOrder(a.s, b.s))
      .map((e) => e.s);
  }
  return distinct.sort(byteOrder);
}

/** `unknown column 'spcies' (columns: a, b, species); did you mean 'species'?` */
export function unknownColumnMessage(name: string, header: readonly string[]): string {
  const best = header
    .map((h) => ({ h, d: editDistance(name.toLowerCase(), h.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  // Two edits turn any two-letter name into any other: short names need a closer match.
  const hint = best && best.d <= Math.min(2, Math.floor(name.length / 3)) ? `; did you mean '${best.h}'?` : '';
  return `unknown column '${name}' (columns: ${header.join(', ')})${hint}`;
}
