// Bilinear resizing of HWC byte images with half-pixel centres and no antialiasing: TF2's
// tf.image.resize(method='bilinear'), which Keras's image_dataset_from_directory uses by default.

export interface Size {
  height: number;
  width: number;
}

/**
 * Source coordinate of output index `o`: (o + ½)·in/out − ½, clamped at 0 and at the last pixel, as
 * TensorFlow's resize kernel with half_pixel_centers. Returns the two neighbours and the weight of the
 * upper one.
 */
function sample(o: number, inSize: number, outSize: number): { lo: number; hi: number; t: number } {
  const x = (o + 0.5) * (inSize / outSize) - 0.5;
  const f = Math.floor(x);
  return { lo: Math.max(f, 0), hi: Math.min(Math.ceil(x), inSize - 1), t: x - f };
}

/** Resize `src` (from.height × from.width × channels) to `to`; values rounded back to bytes. */
export function resizeBilinear(src: Uint8Array, from: Size & { channels: number }, to: Size): Uint8Array {
  const c = from.channels;
  const out = new Uint8Array(to.height * to.width * c);
  const cols = Array.from({ length: to.width }, (_, x) => sample(x, from.width, to.width));
  for (let y = 0; y < to.height; y++) {
    const r = sample(y, from.height, to.height);
    const top = r.lo * from.width * c;
    const bottom = r.hi * from.width * c;
    for (let x = 0; x < to.width; x++) {
      const { lo, hi, t } = cols[x]!;
      for (let k = 0; k < c; k++) {
        const a = src[top + lo * c + k]! + (src[top + hi * c + k]! - src[top + lo * c + k]!) * t;
        const b = src[bottom + lo * c + k]! + (src[bottom + hi * c + k]! - src[bottom + lo * c + k]!) * t;
        out[(y * to.width + x) * c + k] = Math.round(a + (b - a) * r.t);
      }
    }
  }
  return out;
}
