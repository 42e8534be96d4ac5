// Shared by the fused convnet tests (fused-cnn.test.ts, fused-task-grads.test.ts): small two-task
// images and conv-block configs, and MTL_FUSED put back as it was after a file's tests.
import { after } from 'node:test';
import type { ConvBlockConfig } from '../../src/config/types.ts';
import { Rng } from '../../src/random/rng.ts';

export const SIDE = 14;
export const CLASSES = 4;

/** Images with a class signal in a quadrant's brightness (two label sets: two tasks). */
export function images(n: number, seed: number): { x: Float32Array; a: Int32Array; b: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * SIDE * SIDE);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i % CLASSES;
    b[i] = (i * 7 + 3) % CLASSES;
    for (let y = 0; y < SIDE; y++)
      for (let xx = 0; xx < SIDE; xx++) {
        const q = (y < SIDE / 2 ? 0 : 2) + (xx < SIDE / 2 ? 0 : 1);
        const v = rng.normal() * 0.5 + (q === a[i] ? 1 : 0) + (q === b[i] ? 0.5 : 0);
        x[(i * SIDE + y) * SIDE + xx] = v > 0.3 ? v : 0;
      }
  }
  return { x, a, b };
}

export function block(filters: number, kernel: number, pool = 2, padding: 'valid' | 'same' = 'valid'): ConvBlockConfig {
  return { filters, kernel, stride: 1, padding, activation: 'relu', batchNorm: false, pool };
}

/** Tests switch MTL_FUSED to compare paths: put it back as it was when the file's tests end. */
export function restoreFusedAfter(): void {
  const saved = process.env.MTL_FUSED;
  after(() => {
    if (saved === undefined) delete process.env.MTL_FUSED;
    else process.env.MTL_FUSED = saved;
  });
}
