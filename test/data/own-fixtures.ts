// Fixtures for your-own-data tests, written by the tests themselves: class folders of PNG and JPEG
// images whose classes are visibly different shapes, and a CSV with quotes, CRLF line ends, a BOM and
// two label columns that depend on the features (so a model can learn them).
import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { Rng } from '../../src/random/rng.ts';

export const SHAPE_CLASSES = ['bar', 'dot', 'ring'] as const;

/** A `side`×`side` grayscale drawing of a class with seeded noise: a bar, a dot or a ring. */
export function drawShape(cls: (typeof SHAPE_CLASSES)[number], side: number, rng: Rng): Uint8Array {
  const g = new Uint8Array(side * side);
  const c = side / 2 + (rng.next() - 0.5) * 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const d = Math.hypot(x + 0.5 - c, y + 0.5 - c) / side;
      const on = cls === 'bar' ? Math.abs(x + 0.5 - c) < side / 8 : cls === 'dot' ? d < 0.18 : d > 0.25 && d < 0.4;
      g[y * side + x] = Math.max(0, Math.min(255, (on ? 220 : 20) + Math.round((rng.next() - 0.5) * 60)));
    }
  }
  return g;
}

export function writePng(file: string, gray: Uint8Array, side: number, colour = false): void {
  const png = new PNG({ width: side, height: side });
  for (let p = 0; p < side * side; p++) {
    png.data[4 * p] = gray[p]!;
    png.data[4 * p + 1] = colour ? 255 - gray[p]! : gray[p]!;
    png.data[4 * p + 2] = gray[p]!;
    png.data[4 * p + 3] = 255;
  }
  const options = colour ? { colorType: 6 as const } : { colorType: 0 as const };
  fs.writeFileSync(file, PNG.sync.write(png, options));
}

export function writeJpeg(file: string, gray: Uint8Array, side: number): void {
  const rgba = Buffer.alloc(side * side * 4);
  for (let p = 0; p < side * side; p++) rgba.fill(gray[p]!, 4 * p, 4 * p + 3).writeUInt8(255, 4 * p + 3);
  fs.writeFileSync(file, jpeg.encode({ data: rgba, width: side, height: side }, 95).data);
}

export interface ImageFolderOptions {
  perClass: number;
  /** Most images are 12×12 PNGs; every `jpegEvery`-th is a 16×16 JPEG (resized on load). */
  jpegEvery?: number;
  seed?: number;
  /** Write the classes in this order (the class mapping must not depend on it). */
  classOrder?: readonly string[];
}

/** `<dir>/<class>/<n>.png|jpg`; returns the files written. */
export function writeImageFolder(dir: string, o: ImageFolderOptions): string[] {
  const rng = new Rng(o.seed ?? 7);
  const written: string[] = [];
  for (const cls of o.classOrder ?? SHAPE_CLASSES) {
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < o.perClass; i++) {
      const jpg = o.jpegEvery !== undefined && i % o.jpegEvery === o.jpegEvery - 1;
      const side = jpg ? 16 : 12;
      const file = path.join(dir, cls, `${String(i).padStart(3, '0')}.${jpg ? 'jpg' : 'png'}`);
      const g = drawShape(cls as (typeof SHAPE_CLASSES)[number], side, rng);
      if (jpg) writeJpeg(file, g, side);
      else writePng(file, g, side);
      written.push(file);
    }
  }
  return written;
}

/**
 * A table of `n` rows: numeric `x1`, `x2`, a text `colour` whose values hold commas (quoted), and two
 * labels: `kind` (a/b/c, from x1 and x2) and `big` (yes/no, from x1 + colour). Written with a BOM and
 * CRLF line ends.
 */
export function tableRows(n: number, seed = 3): string[][] {
  const rng = new Rng(seed);
  const colours = ['red, dark', 'blue', 'green "light"'];
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const x1 = rng.next() * 10;
    const x2 = rng.next() * 10;
    const colour = colours[rng.int(3)]!;
    const kind = x1 + x2 < 8 ? 'a' : x1 > x2 ? 'b' : 'c';
    const big = x1 + (colour === 'blue' ? 4 : 0) > 7 ? 'yes' : 'no';
    rows.push([x1.toFixed(3), x2.toFixed(3), colour, kind, big]);
  }
  return rows;
}

export const TABLE_HEADER = ['x1', 'x2', 'colour', 'kind', 'big'];

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvLine(fields: readonly string[], delimiter = ','): string {
  return fields.map((f) => (/[",\r\n;]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(delimiter);
}

export function writeCsv(
  file: string,
  header: readonly string[],
  rows: readonly string[][],
  o: { bom?: boolean; crlf?: boolean; delimiter?: string } = {},
): void {
  const eol = o.crlf === false ? '\n' : '\r\n';
  const text = [header, ...rows].map((r) => csvLine(r, o.delimiter)).join(eol) + eol;
  fs.writeFileSync(file, (o.bom === false ? '' : '\ufeff') + text);
}
