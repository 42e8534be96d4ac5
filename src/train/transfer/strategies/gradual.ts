// `gradual` (ULMFiT, Howard & Ruder 2018): phase k trains the top k+1 blocks, each in its own group
// with a discriminative LR, η_block = η / decay^depth (depth 0 = head). One optimizer per group,
// because under Adam scaling a group's gradients would be undone by the per-parameter normalisation.
import type { PhasePlan, Strategy } from './types.ts';

export const gradual: Strategy = {
  help: 'unfreeze one block per epoch from the top, LR / 2.6 per block down (ULMFiT)',
  usesSource: true,
  plan: (blocks, _backbone, ft) => gradualPhases(blocks, ft.lrDecay),
  phaseAt: ({ epoch, ft, phases }) => gradualPhaseAt(epoch, ft.unfreezeEvery, phases),
};

function gradualPhases(blocks: readonly string[], decay: number): PhasePlan[] {
  const topDown = [...blocks].reverse();
  return topDown.map((_, k) => ({
    name: `unfreeze-${k + 1}/${topDown.length}`,
    groups: topDown.slice(0, k + 1).map((block, depth) => ({ name: block, blocks: [block], lrScale: decay ** -depth })),
  }));
}

/** Which phase of `gradual` runs in `epoch` (1-based): one more block every `every` epochs. */
export function gradualPhaseAt(epoch: number, every: number, phases: number): number {
  return Math.min(phases - 1, Math.floor((epoch - 1) / every));
}
