// `full`: every layer trains from the source weights.
import { allBlocksPhase, type Strategy } from './types.ts';

export const full: Strategy = {
  help: 'every layer trains from the source weights',
  usesSource: true,
  inDefaultSet: true,
  plan: (blocks) => [allBlocksPhase(blocks)],
};
