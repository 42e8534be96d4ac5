// The runner's own seeded PRNG: it drives splits, sampling, shuffling, initializers and dropout,
// because tfjs initializers and shuffles are not reliably seeded.

/**
 * mulberry32: a small, fast 32-bit generator with good statistical quality for ML sampling.
 * Deterministic across platforms since it only uses 32-bit integer arithmetic.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hashSeed(seed);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal via Box-Muller (one value per call; simple and deterministic). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** The generator's whole state (one 32-bit integer): saved with a checkpoint so a resumed run draws on. */
  getState(): number {
    return this.state;
  }

  /** Put back a state from getState(): the stream continues exactly where it was. */
  setState(state: number): void {
    this.state = state | 0;
  }

  /** A new independent generator derived from this one (for sub-streams). */
  fork(label: string): Rng {
    return new Rng(deriveSeed(Math.floor(this.next() * 2 ** 31), label));
  }
}

/** Mix a seed and a label into a new 31-bit seed (FNV-1a over the label, then avalanche). */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return hashSeed(h) & 0x7fffffff;
}

function hashSeed(seed: number): number {
  let h = (seed | 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** Fisher-Yates permutation of 0..n-1 using rng. */
export function permutation(n: number, rng: Rng): Int32Array<ArrayBuffer> {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
