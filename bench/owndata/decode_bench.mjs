// Decode speed of the pure-JS decoders mtl uses (pngjs, jpeg-js) against sharp (libvips) on many small
// images: the measurement behind src/data/images/decode.ts's choice (README "Your own data").
// sharp is not a dependency of mtl; run this where it is installed:
//   mkdir /tmp/decode-bench && cd /tmp/decode-bench && npm init -y && npm i sharp@0.35.5 pngjs@7.0.0 jpeg-js@0.4.4
//   node <mtl>/bench/owndata/decode_bench.mjs 3000
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import sharp from 'sharp';

const N = Number(process.argv[2] ?? 3000);
let s = 1;
const rnd = () => {
  s = (s * 1103515245 + 12345) & 0x7fffffff;
  return s / 0x7fffffff;
};
const files = { png: [], jpg: [] };
for (let i = 0; i < N; i++) {
  // A 28x28 grayscale PNG (a blob) and a 32x32 colour JPEG (noise and a ramp), as small data sets have.
  const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const cx = 8 + rnd() * 12;
  const cy = 8 + rnd() * 12;
  png.data = Buffer.from({ length: 784 }, (_, k) => {
    const d = Math.hypot((k % 28) - cx, Math.floor(k / 28) - cy);
    return d < 6 ? 255 - d * 30 : 0;
  });
  files.png.push(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  const rgba = Buffer.alloc(32 * 32 * 4);
  for (let k = 0; k < 1024; k++) rgba.set([rnd() * 255, (k % 32) * 8, 100, 255], k * 4);
  files.jpg.push(jpeg.encode({ data: rgba, width: 32, height: 32 }, 90).data);
}
const pure = (buf, kind) =>
  kind === 'png' ? PNG.sync.read(buf).data : jpeg.decode(buf, { useTArray: true, formatAsRGBA: true }).data;
const time = async (f) => {
  const t = performance.now();
  await f();
  return Math.round(performance.now() - t);
};
for (const kind of ['png', 'jpg']) {
  for (let rep = 0; rep < 2; rep++) {
    const js = await time(() => {
      for (const b of files[kind]) pure(b, kind);
    });
    const seq = await time(async () => {
      for (const b of files[kind]) await sharp(b).raw().toBuffer();
    });
    const par = await time(() => Promise.all(files[kind].map((b) => sharp(b).raw().toBuffer())));
    const gray = await time(async () => {
      for (const b of files[kind])
        await sharp(b).removeAlpha().toColourspace('b-w').resize(28, 28, { fit: 'fill' }).raw().toBuffer();
    });
    console.log(
      `${kind} x${N}: pngjs/jpeg-js ${js} ms | sharp sequential ${seq} ms | sharp all at once ${par} ms | sharp gray+resize sequential ${gray} ms`,
    );
  }
}
