import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { findIdxFiles, loadIdxDir, parseIdx } from '../../src/data/idx.ts';
import { InputError } from '../../src/errors.ts';
import { makeIdx, tempDir, writeTinyIdxDir } from './helpers.ts';

const SRC = 'datasets/x/train-images-idx3-ubyte';
const pixels = [0, 1, 2, 3, 250, 251, 252, 255, 9, 8, 7, 6]; // 2 images of 2x3

test('parseIdx reads dims and data of a hand-made images file', () => {
  const { dims, data } = parseIdx(makeIdx([2, 2, 3], pixels), SRC);
  assert.deepEqual(dims, [2, 2, 3]);
  assert.deepEqual(Array.from(data), pixels);
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
});

test('parseIdx reads a labels file and pins the kind when asked', () => {
  const buf = makeIdx([3], [7, 0, 9]);
  assert.deepEqual(Array.from(parseIdx(buf, 'labels', 'labels').data), [7, 0, 9]);
  assert.throws(
    () => parseIdx(buf, 'lbl', 'images'),
    /lbl: bad magic number 0x00000801 \(expected 0x00000803 for images\)/,
  );
});

test('parseIdx gunzips transparently', () => {
  const gz = zlib.gzipSync(makeIdx([2, 2, 3], pixels));
  assert.equal(gz[0], 0x1f);
  assert.deepEqual(Array.from(parseIdx(gz, SRC).data), pixels);
});

test('parseIdx rejects a bad magic number with the file name', () => {
  const buf = makeIdx([2, 2, 3], pixels);
  buf.writeUInt32BE(0x00000802, 0);
  assert.throws(
    () => parseIdx(buf, SRC, 'images'),
    (err: unknown) =>
      err instanceof InputError &&
      err.message === `${SRC}: bad magic number 0x00000802 (expected 0x00000803 for images)`,
  );
});

test('parseIdx rejects non-byte data types', () => {
  const buf = makeIdx([2, 2, 3], pixels);
  buf.writeUInt32BE(0x00000d03, 0); // float32 images
  assert.throws(() => parseIdx(buf, SRC), /data type 0x0d is not supported, only unsigned byte/);
});

test('parseIdx rejects a wrong size, naming the expected one', () => {
  const truncated = makeIdx([2, 2, 3], pixels).subarray(0, 20);
  assert.throws(
    () => parseIdx(truncated, SRC),
    (err: unknown) => err instanceof InputError && err.message === `${SRC}: size 20 bytes, expected 28 for 2x2x3`,
  );
  const long = Buffer.concat([makeIdx([2, 2, 3], pixels), Buffer.from([1])]);
  assert.throws(() => parseIdx(long, SRC), /size 29 bytes, expected 28/);
  assert.throws(() => parseIdx(Buffer.from([1, 2]), SRC), InputError);
  assert.throws(() => parseIdx(Buffer.from([0x1f, 0x8b, 1, 2]), SRC), /corrupt gzip data/);
});

test('loadIdxDir loads a tiny dataset and infers the classes', () => {
  const dir = tempDir('idx');
  try {
    writeTinyIdxDir(dir, { n: 12, m: 5, rows: 4, cols: 3, classes: 4 });
    const ds = loadIdxDir(dir);
    assert.deepEqual(ds.inputShape, [4, 3, 1]);
    assert.equal(ds.numClasses, 4);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3']);
    assert.equal(ds.train.n, 12);
    assert.equal(ds.test.n, 5);
    assert.equal(ds.train.x.length, 12 * 12);
    assert.deepEqual(Array.from(ds.test.y), [0, 1, 2, 3, 0]);
    assert.equal(ds.train.x[13], (13 * 31) % 256);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadIdxDir accepts the dotted and gzipped spellings', () => {
  const dir = tempDir('idx-gz');
  try {
    writeTinyIdxDir(dir, { n: 6, m: 3, rows: 2, cols: 2, classes: 3 });
    for (const name of fs.readdirSync(dir)) {
      const renamed = `${name.replace('-idx', '.idx')}.gz`;
      fs.writeFileSync(path.join(dir, renamed), zlib.gzipSync(fs.readFileSync(path.join(dir, name))));
      fs.rmSync(path.join(dir, name));
    }
    assert.match(findIdxFiles(dir)['train-images'], /train-images\.idx3-ubyte\.gz$/);
    const ds = loadIdxDir(dir);
    assert.equal(ds.train.n, 6);
    assert.equal(ds.numClasses, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadIdxDir lists missing files and rejects mismatched counts', () => {
  const dir = tempDir('idx-bad');
  try {
    assert.throws(() => loadIdxDir(path.join(dir, 'nope')), /IDX dataset directory not found/);
    writeTinyIdxDir(dir, { n: 6, m: 3, rows: 2, cols: 2, classes: 3 });
    fs.rmSync(path.join(dir, 'train-labels-idx1-ubyte'));
    fs.rmSync(path.join(dir, 't10k-images-idx3-ubyte'));
    assert.throws(
      () => loadIdxDir(dir),
      (err: unknown) => {
        assert.ok(err instanceof InputError);
        assert.match(err.message, /missing IDX file\(s\): train-labels \(.*\), t10k-images \(/);
        return true;
      },
    );
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), makeIdx([5], [0, 1, 2, 0, 1]));
    fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), makeIdx([3, 2, 2], new Array(12).fill(0)));
    assert.throws(
      () => loadIdxDir(dir),
      /train-labels-idx1-ubyte: 5 labels but .*train-images-idx3-ubyte has 6 images/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
