// Freeze plans of the transfer strategies: which blocks of a model train in which phase, at which
// learning-rate scale. Plans are pure data over block names, so each one is tested on its own.
import type { FinetuneConfig, FinetuneStrategy } from '../../config/types.ts';
import { isHeadLayer } from '../../models/build.ts';

/** One optimizer's share of the model: the blocks it updates, at `lrScale` × the scheduled LR. */
export interface GroupPlan {
  name: string;
  blocks: string[];
  lrScale: number;
}

/** What trains during one phase of a strategy; blocks in no group are frozen (inference mode). */
export interface PhasePlan {
  name: string;
  groups: GroupPlan[];
}

/** Thrown when a strategy cannot apply to a model (e.g. freeze-conv on an MLP). */
export class PlanError extends Error {}

/**
 * The block a layer belongs to: `conv_N` (with its `bn_N`), `dense_N`, or `head`. A freeze plan
 * freezes whole blocks, so a conv layer is never trained while its BatchNorm is frozen, or back.
 */
export function blockOf(layerName: string): string {
  if (isHeadLayer(layerName)) return 'head';
  const conv = /^(?:conv|bn|act|pool)_(\d+)$/.exec(layerName);
  if (conv) return `conv_${conv[1]}`;
  const dense = /^(?:dense|dropout)_(\d+)$/.exec(layerName);
  if (dense) return `dense_${dense[1]}`;
  return layerName;
}

export function isConvBlock(block: string): boolean {
  return /^conv_\d+$/.test(block);
}

/**
 * The phases of `strategy` over a model's weighted blocks (in model order, head last). Single-phase
 * strategies return one phase; `lp-ft` two (probe, then fine-tune); `gradual` one per block.
 * `zero-shot` trains nothing and has no phases.
 */
export function planStrategy(strategy: FinetuneStrategy, blocks: readonly string[], ft: FinetuneConfig): PhasePlan[] {
  if (!blocks.includes('head')) throw new PlanError(`the model has no 'head' layer (blocks: ${blocks.join(', ')})`);
  const backbone = blocks.filter((b) => b !== 'head');
  switch (strategy) {
    case 'full':
    case 'reinit':
      return [{ name: 'full', groups: [{ name: 'all', blocks: [...blocks], lrScale: 1 }] }];
    case 'linear-probe':
      return [probePhase(backbone)];
    case 'lp-ft':
      // Kumar et al. (ICLR 2022): a good head first keeps fine-tuning from distorting the features;
      // then everything trains at a lower LR so the features move only a little.
      return [
        probePhase(backbone),
        {
          name: 'finetune',
          groups: [
            { name: 'head', blocks: ['head'], lrScale: ft.ftLrScale },
            { name: 'backbone', blocks: backbone, lrScale: ft.ftLrScale },
          ],
        },
      ];
    case 'freeze-conv': {
      const conv = backbone.filter(isConvBlock);
      if (conv.length === 0)
        throw new PlanError('freeze-conv needs a model with conv layers; this one has none (use --model cnn)');
      return [
        {
          name: 'frozen-conv',
          groups: [{ name: 'trainable', blocks: blocks.filter((b) => !isConvBlock(b)), lrScale: 1 }],
        },
      ];
    }
    case 'gradual':
      return gradualPhases(blocks, ft.lrDecay);
    case 'zero-shot':
      return [];
  }
}

function probePhase(backbone: readonly string[]): PhasePlan {
  if (backbone.length === 0) throw new PlanError('a linear probe needs a backbone to freeze; the model is only a head');
  return { name: 'probe', groups: [{ name: 'head', blocks: ['head'], lrScale: 1 }] };
}

/**
 * ULMFiT (Howard & Ruder 2018): phase k trains the top k+1 blocks, each in its own group with a
 * discriminative LR, η_block = η / decay^depth (depth 0 = head). One optimizer per group, because
 * under Adam scaling a group's gradients would be undone by the per-parameter normalisation.
 */
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

/**
 * `lp-ft` with `lpEpochs: null`: the probe has converged when the monitor's latest value did not
 * improve on the best before it (by more than minDelta). At least two probe epochs are needed.
 */
export function probeConverged(values: readonly number[], mode: 'min' | 'max', minDelta: number): boolean {
  if (values.length < 2) return false;
  const last = values[values.length - 1]!;
  const earlier = values.slice(0, -1);
  const best = mode === 'min' ? Math.min(...earlier) : Math.max(...earlier);
  return mode === 'min' ? !(last < best - minDelta) : !(last > best + minDelta);
}

/** The longest automatic probe: half the budget, so the fine-tune phase always gets the other half. */
export function maxProbeEpochs(epochs: number): number {
  return Math.max(1, Math.floor(epochs / 2));
}
