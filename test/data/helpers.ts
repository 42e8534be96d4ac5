// Test helpers: hand-made IDX buffers and throwaway folders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** An IDX file of unsigned bytes with the given dims (magic 0x0000080<rank>). */
export function makeIdx(dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x00000800 | dims.length, 0);
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mtl-${prefix}-`));
}

/** A tiny IDX dataset: `n` train / `m` test images of rows x cols, label = i % classes. */
export function writeTinyIdxDir(
  dir: string,
  opts: { n: number; m: number; rows: number; cols: number; classes: number; gzip?: boolean },
): void {
  const write = (name: string, buf: Buffer): void => fs.writeFileSync(path.join(dir, name), buf);
  const px = opts.rows * opts.cols;
  for (const [part, count] of [
    ['train', opts.n],
    ['t10k', opts.m],
  ] as const) {
    const images = Array.from({ length: count * px }, (_, k) => (k * 31 + (part === 'train' ? 0 : 7)) % 256);
    const labels = Array.from({ length: count }, (_, i) => i % opts.classes);
    write(`${part}-images-idx3-ubyte`, makeIdx([count, opts.rows, opts.cols], images));
    write(`${part}-labels-idx1-ubyte`, makeIdx([count], labels));
  }
}

/** Byte equality of two typed arrays without element-wise assert (fast on 47 MB). */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
