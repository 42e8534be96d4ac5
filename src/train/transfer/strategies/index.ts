// The transfer strategies of `finetune.strategy` and `mtl transfer --strategy`, one file each. The
// table is what fine-tuning, the transfer job, its report, the config checks and the CLI help read;
// `satisfies` keeps it exhaustive over STRATEGIES (config/names.ts). Pure data: no TF.js here.
import { STRATEGIES } from '../../../config/names.ts';
import type { FinetuneConfig, FinetuneStrategy } from '../../../config/types.ts';
import { freezeConv } from './freeze-conv.ts';
import { full } from './full.ts';
import { gradual } from './gradual.ts';
import { linearProbe } from './linear-probe.ts';
import { lpFt } from './lp-ft.ts';
import { reinit } from './reinit.ts';
import { type PhasePlan, PlanError, type Strategy } from './types.ts';
import { zeroShot } from './zero-shot.ts';

export const STRATEGY_TABLE = {
  full,
  'linear-probe': linearProbe,
  'lp-ft': lpFt,
  gradual,
  'freeze-conv': freezeConv,
  reinit,
  'zero-shot': zeroShot,
} satisfies Record<FinetuneStrategy, Strategy>;

export function strategy(name: FinetuneStrategy): Strategy {
  return STRATEGY_TABLE[name];
}

/** What `mtl transfer` runs without --strategy. */
export const DEFAULT_STRATEGIES: readonly FinetuneStrategy[] = STRATEGIES.filter((s) => strategy(s).inDefaultSet);

/** The strategy the gains are measured against (`reinit`). */
export const BASELINE_STRATEGY: FinetuneStrategy = STRATEGIES.find((s) => strategy(s).baseline)!;

/**
 * The phases of `name` over a model's weighted blocks (in model order, head last). Single-phase
 * strategies return one phase; `lp-ft` two (probe, then fine-tune); `gradual` one per block.
 * Strategies that only evaluate return none.
 */
export function planStrategy(name: FinetuneStrategy, blocks: readonly string[], ft: FinetuneConfig): PhasePlan[] {
  if (!blocks.includes('head')) throw new PlanError(`the model has no 'head' layer (blocks: ${blocks.join(', ')})`);
  return strategy(name).plan(
    blocks,
    blocks.filter((b) => b !== 'head'),
    ft,
  );
}

/** The strategies section of `mtl transfer --help`, one aligned line each. */
export function strategiesHelp(): string {
  const width = Math.max(...STRATEGIES.map((s) => s.length)) + 2;
  return STRATEGIES.map((s) => `  ${s.padEnd(width)}${strategy(s).help}`).join('\n');
}

export { gradualPhaseAt } from './gradual.ts';
export { maxProbeEpochs, probeConverged } from './lp-ft.ts';
export {
  blockOf,
  type GroupPlan,
  isConvBlock,
  type PhaseContext,
  type PhasePlan,
  PlanError,
  type Strategy,
} from './types.ts';
