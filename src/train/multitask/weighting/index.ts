// The weighting methods of `multitask.weighting`, one file each (its math and its factory). The
// registry is exhaustive over WEIGHTINGS (config/names.ts): a name without its entry does not compile.
import type { MultitaskConfig, TaskConfig, WeightingName } from '../../../config/types.ts';
import { cagrad } from './cagrad.ts';
import { dwa } from './dwa.ts';
import { equal } from './equal.ts';
import { gradnorm } from './gradnorm.ts';
import { mgda } from './mgda.ts';
import { pcgrad } from './pcgrad.ts';
import { rlw } from './rlw.ts';
import { staticWeights } from './static.ts';
import type { Weighting, WeightingContext, WeightingFactory } from './types.ts';
import { uncertainty } from './uncertainty.ts';

const WEIGHTINGS = {
  equal,
  static: staticWeights,
  uncertainty,
  dwa,
  rlw,
  gradnorm,
  pcgrad,
  mgda,
  cagrad,
} satisfies Record<WeightingName, WeightingFactory>;

export function createWeighting(cfg: MultitaskConfig, tasks: readonly TaskConfig[], ctx: WeightingContext): Weighting {
  return WEIGHTINGS[cfg.weighting]({ cfg, tasks, ctx });
}

export type { GradientSpace, Weighting, WeightingContext } from './types.ts';
