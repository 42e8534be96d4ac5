// images:<dir>: decoding, resizing and grayscale rules checked by hand, the class mapping, the
// holdout split, the cache fingerprint, and every bad-data case reported in one pass.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { holdoutSplit } from '../../src/data/holdout.ts';
import { decodeImage, decodeTo, jpegComponents, toChannels } from '../../src/data/images/decode.ts';
import { loadImageFolder } from '../../src/data/images/load.ts';
import { resizeBilinear } from '../../src/data/images/resize.ts';
import { loadRawDataset } from '../../src/data/registry.ts';
import { DataError } from '../../src/errors.ts';
import { Rng } from '../../src/random/rng.ts';
import { tempDir } from './helpers.ts';
import { drawShape, SHAPE_CLASSES, writeImageFolder, writeJpeg, writePng } from './own-fixtures.ts';

const root = tempDir('images');
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => path.join(root, `case${n++}`);

describe('decoding', () => {
  it('reads gray PNGs as one channel, colour PNGs as RGB, and JPEG within its lossy error', () => {
    const dir = fresh();
    fs.mkdirSync(dir);
    const g = drawShape('dot', 12, new Rng(1));
    writePng(path.join(dir, 'g.png'), g, 12);
    writePng(path.join(dir, 'c.png'), g, 12, true);
    writeJpeg(path.join(dir, 'j.jpg'), g, 12);
    const gray = decodeImage(fs.readFileSync(path.join(dir, 'g.png')));
    assert.equal(gray.channels, 1);
    assert.deepEqual(gray.data, g);
    const colour = decodeImage(fs.readFileSync(path.join(dir, 'c.png')));
    assert.equal(colour.channels, 3);
    assert.deepEqual([colour.data[0], colour.data[1], colour.data[2]], [g[0], 255 - g[0]!, g[0]]);
    const jpg = decodeImage(fs.readFileSync(path.join(dir, 'j.jpg')));
    assert.equal(jpg.width, 12);
    // jpeg-js writes 3 components; quality 95 keeps every pixel close.
    assert.equal(jpegComponents(fs.readFileSync(path.join(dir, 'j.jpg'))), 3);
    const gj = toChannels(jpg, 1);
    assert.ok(
      gj.every((v, i) => Math.abs(v - g[i]!) <= 24),
      'jpeg pixels within 24 of the drawing',
    );
  });

  it("converts RGB to gray with PIL's L formula and gray to RGB by repetition", () => {
    const img = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.from([255, 0, 0, 10, 200, 30]) };
    // (255·19595 + 32768) >> 16 = 76; (10·19595 + 200·38470 + 30·7471 + 32768) >> 16 = 124
    assert.deepEqual(Array.from(toChannels(img, 1)), [76, 124]);
    const g = { width: 2, height: 1, channels: 1 as const, data: Uint8Array.from([7, 9]) };
    assert.deepEqual(Array.from(toChannels(g, 3)), [7, 7, 7, 9, 9, 9]);
  });

  it('resizes bilinearly with half-pixel centres (hand-computed 2x2 → 4x4 and 4 → 2)', () => {
    // 2→4: source x = (o + ½)/2 − ½ = −0.25, 0.25, 0.75, 1.25 → 0, ¼, ¾, 1 of the way (clamped at the ends).
    const up = resizeBilinear(
      Uint8Array.from([0, 100, 100, 200]),
      { height: 2, width: 2, channels: 1 },
      { height: 4, width: 4 },
    );
    assert.deepEqual(Array.from(up.subarray(0, 4)), [0, 25, 75, 100]);
    assert.deepEqual(Array.from(up.subarray(12, 16)), [100, 125, 175, 200]);
    // 4→2: source x = (o + ½)·2 − ½ = 0.5, 2.5: the mean of each pair (no antialiasing beyond that).
    const down = resizeBilinear(
      Uint8Array.from([0, 10, 20, 30]),
      { height: 1, width: 4, channels: 1 },
      { height: 1, width: 2 },
    );
    assert.deepEqual(Array.from(down), [5, 25]);
  });

  it('rejects a file that is not an image, and a truncated PNG, saying which', () => {
    assert.throws(() => decodeImage(Buffer.from('hello')), /not a PNG or JPEG/);
    const png = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 4 }), {}));
    assert.throws(() => decodeImage(png.subarray(0, 40)), /corrupt PNG/);
    assert.equal(decodeTo(png, { height: 2, width: 2, channels: 1 }).length, 4);
  });
});

describe('image folders', () => {
  it('maps classes in byte order whatever order the files were created in, and decodes to one size', () => {
    const a = fresh();
    const b = fresh();
    writeImageFolder(a, { perClass: 5, jpegEvery: 2 });
    writeImageFolder(b, { perClass: 5, jpegEvery: 2, classOrder: ['ring', 'bar', 'dot'] });
    const da = loadImageFolder(a, 'images:a', { cache: false, own: { test: 0.4 } });
    const db = loadImageFolder(b, 'images:b', { cache: false, own: { test: 0.4 } });
    assert.deepEqual(da.classNames, [...SHAPE_CLASSES]);
    assert.deepEqual(db.classNames, da.classNames);
    assert.deepEqual(da.inputShape, [12, 12, 1], 'the first image (bar/000.png) sets the size; JPEGs are resized');
    assert.deepEqual(Array.from(da.train.y), Array.from(db.train.y));
    assert.equal(da.test.n, 6, '40% of 5 per class = 2 per class');
    assert.deepEqual(da.source?.testSplit, { fraction: 0.4, seed: 1337, stratifiedBy: 'class folder' });
  });

  it('uses train/ and test/ folders as they are, and data.image to set size and channels', () => {
    const dir = fresh();
    writeImageFolder(path.join(dir, 'train'), { perClass: 4 });
    writeImageFolder(path.join(dir, 'test'), { perClass: 2, seed: 9 });
    const ds = loadImageFolder(dir, 'images:x', { cache: false, own: { image: { size: [8, 6], channels: 3 } } });
    assert.deepEqual([ds.train.n, ds.test.n], [12, 6]);
    assert.deepEqual(ds.inputShape, [8, 6, 3]);
    assert.equal(ds.train.x.length, 12 * 8 * 6 * 3);
    assert.equal(ds.source?.testSplit, undefined);
  });

  it('holds out round(count × fraction) per class with its own seed, never a whole class', () => {
    const strata = [0, 0, 0, 0, 0, 1, 1, 2, 2, 2];
    const s = holdoutSplit(strata, 0.5);
    const testClasses = Array.from(s.test, (i) => strata[i]!);
    assert.deepEqual(
      [0, 1, 2].map((c) => testClasses.filter((x) => x === c).length),
      [3, 1, 2],
    );
    assert.deepEqual(holdoutSplit(strata, 0.5), s, 'deterministic');
    assert.equal(holdoutSplit([0, 1], 0.9).test.length, 0, 'a class of one keeps its example for training');
  });

  it('caches decoded pixels and notices a changed file by its content', async () => {
    const dir = fresh();
    const cacheDir = fresh();
    writeImageFolder(dir, { perClass: 4 });
    const first = await loadRawDataset(`images:${dir}`, { cacheDir });
    assert.equal(fs.readdirSync(cacheDir).filter((f) => f.startsWith('images-')).length, 1);
    const again = await loadRawDataset(`images:${dir}`, { cacheDir });
    assert.equal(again.source?.fingerprint, first.source?.fingerprint);
    // Same size, same name, new content: only a content hash tells.
    const file = path.join(dir, 'dot', '000.png');
    writePng(file, drawShape('ring', 12, new Rng(99)), 12);
    const changed = await loadRawDataset(`images:${dir}`, { cacheDir });
    assert.notEqual(changed.source?.fingerprint, first.source?.fingerprint);
  });

  it('lists an empty class folder, a corrupt image and a non-image together (exit 3)', () => {
    const dir = fresh();
    writeImageFolder(dir, { perClass: 2 });
    fs.mkdirSync(path.join(dir, 'zebra'));
    fs.writeFileSync(
      path.join(dir, 'dot', 'broken.png'),
      fs.readFileSync(path.join(dir, 'dot', '000.png')).subarray(0, 60),
    );
    fs.writeFileSync(path.join(dir, 'ring', 'notes.jpg'), 'not an image');
    const err = catchError(() => loadImageFolder(dir, `images:${dir}`, { cache: false }));
    assert.ok(err instanceof DataError);
    assert.equal(err.exitCode, 3);
    const text = err.problems.map((p) => `${p.file}: ${p.message}`).join('\n');
    assert.match(text, /zebra: empty class folder/);
    assert.match(text, /broken\.png: corrupt PNG/);
    assert.match(text, /notes\.jpg: not a PNG or JPEG/);
  });

  it('refuses a single class and a folder without class sub-folders', () => {
    const one = fresh();
    writeImageFolder(one, { perClass: 2, classOrder: ['dot'] });
    assert.match(
      String(catchError(() => loadImageFolder(one, 'images:one', { cache: false }))),
      /1 class folder\(s\): classification needs at least 2/,
    );
    const flat = fresh();
    fs.mkdirSync(flat);
    writePng(path.join(flat, 'a.png'), drawShape('dot', 12, new Rng(2)), 12);
    assert.match(
      String(catchError(() => loadImageFolder(flat, 'images:flat', { cache: false }))),
      /no class sub-folders/,
    );
  });
});

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}
