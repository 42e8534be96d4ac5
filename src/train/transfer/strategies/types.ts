// What a transfer strategy is: a freeze plan over the model's blocks (which blocks train in which
// phase, at which learning-rate scale), when to switch phases, and the facts the transfer job, the
// config checks and the CLI help read. Plans are pure data over block names, each tested on its own.
import type { FinetuneConfig } from '../../../config/types.ts';
import { isHeadLayer } from '../../../models/names.ts';

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

/** What a strategy's phase switch may look at, once at the start of each epoch. */
export interface PhaseContext {
  /** 1-based epoch about to run. */
  epoch: number;
  /** Index of the phase that ran last. */
  current: number;
  phases: number;
  ft: FinetuneConfig;
  /** trainer.epochs. */
  epochs: number;
  /** The monitored validation metric of the finished epochs, oldest first. */
  monitorValues(): number[];
  monitorMode: 'min' | 'max';
  minDelta: number;
}

export interface Strategy {
  /** One line for `mtl transfer --help`. */
  help: string;
  /** Starts from the source weights (false only for `reinit`, the from-scratch baseline). */
  usesSource: boolean;
  /** The from-scratch baseline every transfer gain is measured against. */
  baseline?: boolean;
  /** Trains nothing: the source model is evaluated on the target as it is (no randomness: one run). */
  evaluateOnly?: boolean;
  /** Needs conv layers (the transfer job refuses it for an MLP before training anything). */
  needsConv?: boolean;
  /** Part of `mtl transfer`'s default set. */
  inDefaultSet?: boolean;
  /** Phases over the weighted blocks in model order (head last), and the backbone (every block but the head). */
  plan(blocks: readonly string[], backbone: readonly string[], ft: FinetuneConfig): PhasePlan[];
  /** Which phase runs next; default: stay in the current one. */
  phaseAt?(ctx: PhaseContext): number;
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

/** Everything trains, one group at the scheduled LR. */
export function allBlocksPhase(blocks: readonly string[]): PhasePlan {
  return { name: 'full', groups: [{ name: 'all', blocks: [...blocks], lrScale: 1 }] };
}

/** Only the head trains; the backbone is frozen. */
export function probePhase(backbone: readonly string[]): PhasePlan {
  if (backbone.length === 0) throw new PlanError('a linear probe needs a backbone to freeze; the model is only a head');
  return { name: 'probe', groups: [{ name: 'head', blocks: ['head'], lrScale: 1 }] };
}
