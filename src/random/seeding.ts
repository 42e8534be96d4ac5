// Process-wide seeding. tfjs's dropout (and any initializer left at its default) draws its seeds from
// Math.random, so the runner replaces Math.random with a stream of its own seeded PRNG for a run.
import { deriveSeed, Rng } from './rng.ts';

const nativeRandom = Math.random;
/** The stream behind Math.random since the last seedGlobalRandom (a resumed run saves and restores it). */
let current: Rng | null = null;

/** Make Math.random a deterministic stream derived from `seed` (idempotent per seed). */
export function seedGlobalRandom(seed: number): void {
  const rng = new Rng(deriveSeed(seed, 'math-random'));
  current = rng;
  Math.random = () => rng.next();
}

/** The seeded stream Math.random draws from now, or null when it is the native generator. */
export function globalRandomStream(): Rng | null {
  return current;
}

/** Give Math.random back its native, unseeded generator. */
export function restoreGlobalRandom(): void {
  current = null;
  Math.random = nativeRandom;
}
