// PNG and JPEG files to pixels with pure-JavaScript decoders (pngjs, jpeg-js: no native binaries, no
// download step), then to the dataset's channels and size. Measured faster than sharp on small
// images here, where sharp's per-call overhead dominates (README "Your own data").
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageInput } from '../input.ts';
import { resizeBilinear } from './resize.ts';

export type ImageFormat = 'png' | 'jpeg';

/** Decoded pixels, row-major HWC bytes. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/**
 * Limits that stop a corrupt or hostile header from allocating gigabytes: 100 megapixels is far above
 * any image this runner trains on (jpeg-js's own defaults are 100 MP and 512 MB).
 */
const MAX_MEGAPIXELS = 100;
const MAX_MEMORY_MB = 1024;

/** The format by its signature bytes, whatever the file is named. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode a PNG or JPEG; throws an Error whose message says what is wrong with the file. */
export function decodeImage(bytes: Buffer): DecodedImage {
  const format = sniffFormat(bytes);
  if (format === null) throw new Error('not a PNG or JPEG file (unknown signature bytes)');
  try {
    return format === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
  } catch (err) {
    // pngjs reports a truncated stream as "There are some read requests waiting on finished stream".
    const why = /read requests/.test((err as Error).message) ? 'truncated data' : (err as Error).message;
    throw new Error(`corrupt ${format.toUpperCase()}: ${why}`);
  }
}

function decodePng(bytes: Buffer): DecodedImage {
  const png = PNG.sync.read(bytes);
  if (png.width * png.height > MAX_MEGAPIXELS * 1e6) throw new Error(`${png.width}x${png.height} is too large`);
  // Colour types 0 and 4 are grayscale (with alpha); pngjs always hands back 8-bit RGBA.
  const gray = png.colorType === 0 || png.colorType === 4;
  return fromInterleaved(png.data, png.width, png.height, 4, gray ? 1 : 3);
}

function decodeJpeg(bytes: Buffer): DecodedImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    maxResolutionInMP: MAX_MEGAPIXELS,
    maxMemoryUsageInMB: MAX_MEMORY_MB,
  });
  return fromInterleaved(img.data, img.width, img.height, 3, jpegComponents(bytes) === 1 ? 1 : 3);
}

/** Number of colour components in the JPEG's frame header (SOF0-SOF15 except DHT/JPG/DAC), or null. */
export function jpegComponents(bytes: Uint8Array): number | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9]!;
    i += 2 + length;
  }
  return null;
}

/** Keep `keep` of `stride` interleaved channels (1: the first, which is gray for gray images). */
function fromInterleaved(src: Uint8Array, width: number, height: number, stride: number, keep: 1 | 3): DecodedImage {
  const n = width * height;
  const data = new Uint8Array(n * keep);
  for (let p = 0; p < n; p++) for (let c = 0; c < keep; c++) data[p * keep + c] = src[p * stride + c]!;
  return { width, height, channels: keep, data };
}

/** PIL's convert('L'): (R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16, i.e. BT.601 luma rounded. */
export function toChannels(img: DecodedImage, channels: 1 | 3): Uint8Array {
  if (img.channels === channels) return img.data;
  const n = img.width * img.height;
  const out = new Uint8Array(n * channels);
  const d = img.data;
  if (channels === 1) {
    for (let p = 0; p < n; p++)
      out[p] = (d[3 * p]! * 19595 + d[3 * p + 1]! * 38470 + d[3 * p + 2]! * 7471 + 0x8000) >> 16;
  } else {
    for (let p = 0; p < n; p++) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = d[p]!;
  }
  return out;
}

/** Decode `bytes` to the dataset's input: its channels first (as PIL/Keras load_img), then its size. */
export function decodeTo(bytes: Buffer, input: Pick<ImageInput, 'height' | 'width' | 'channels'>): Uint8Array {
  const img = decodeImage(bytes);
  const pixels = toChannels(img, input.channels);
  if (img.height === input.height && img.width === input.width) return pixels;
  return resizeBilinear(pixels, { height: img.height, width: img.width, channels: input.channels }, input);
}
