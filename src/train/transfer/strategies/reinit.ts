// `reinit`: the same model trained from scratch with the same budget: the baseline of every gain.
import { allBlocksPhase, type Strategy } from './types.ts';

export const reinit: Strategy = {
  help: 'the same model from scratch with the same budget: the baseline of every gain',
  usesSource: false,
  baseline: true,
  inDefaultSet: true,
  plan: (blocks) => [allBlocksPhase(blocks)],
};
