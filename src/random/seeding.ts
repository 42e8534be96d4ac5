// Process-wide seeding. tfjs's dropout (and any initializer left at its default) draws its seeds from
// Math.random, so the runner replaces Math.random with a stream of its own seeded PRNG for a run.
import { deriveSeed, Rng } from './rng.ts';

const nativeRandom = Math.random;

/** Make Math.random a deterministic stream derived from `seed` (idempotent per seed). */
export function seedGlobalRandom(seed: number): void {
  const rng = new Rng(deriveSeed(seed, 'math-random'));
  Math.random = () => rng.next();
}

/** Give Math.random back its native, unseeded generator. */
export function restoreGlobalRandom(): void {
  Math.random = nativeRandom;
}
