// `zero-shot`: the source model evaluated on the target as it is (same classes, no training).
import type { Strategy } from './types.ts';

export const zeroShot: Strategy = {
  help: 'the source model evaluated on the target as is',
  usesSource: true,
  evaluateOnly: true,
  inDefaultSet: true,
  plan: () => [],
};
