// The `init:` and `finetune:` sections of an experiment config (trainer.mode: finetune): where the
// weights start from, and which transfer strategy trains them; plus their cross-section checks.
import { z } from 'zod';
import { strategy } from '../train/transfer/strategies/index.ts';
import { bool, doc, expectation, FIELD_INFO, nullableNum, num, oneOf } from './fields.ts';
import { STRATEGIES } from './names.ts';
import type { Config } from './types.ts';

function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, { error: expectation('a mapping of keys to values') });
}

export const initSchema = section({
  from: doc(
    z
      .string({ error: expectation('a run id, unique prefix, run folder or checkpoint folder') })
      .min(1, { error: 'expected a run id, unique prefix, run folder or checkpoint folder, got an empty string' })
      .register(FIELD_INFO, { kind: 'run id or path' })
      .nullable()
      .default(null),
    "Where the weights start (nanoGPT's init_from): null = scratch; a run (its best checkpoint) or a checkpoint folder.",
  ),
  keepHead: doc(
    bool().default(false),
    "Keep the source's output layer instead of a new head (needs the same classes).",
  ),
});

export const finetuneSchema = section({
  strategy: doc(
    oneOf(STRATEGIES).default('full'),
    'Transfer strategy of trainer.mode: finetune (see `mtl transfer --help`).',
  ),
  lpEpochs: doc(
    nullableNum({ int: true, min: 1 }).default(null),
    '`lp-ft`: epochs of linear probing before unfreezing; null = until the monitor stops improving, at most half the epochs.',
  ),
  ftLrScale: doc(
    num({ gt: 0, max: 1 }).default(0.1),
    '`lp-ft`: learning-rate multiplier once the backbone is unfrozen.',
  ),
  unfreezeEvery: doc(
    num({ int: true, min: 1 }).default(1),
    '`gradual`: epochs between unfreezing one more block, from the top (ULMFiT: 1).',
  ),
  lrDecay: doc(
    num({ min: 1 }).default(2.6),
    '`gradual`: each block learns at the rate of the block above it divided by this (ULMFiT: 2.6).',
  ),
});

type Checked = Pick<Config, 'trainer' | 'init' | 'finetune'>;

/** init.from is what a fine-tune starts from; outside finetune mode it would be silently ignored. */
export function checkFinetuneConfig(cfg: Checked, ctx: z.RefinementCtx): void {
  const finetune = cfg.trainer.mode === 'finetune';
  const needsSource = strategy(cfg.finetune.strategy).usesSource;
  if (finetune && needsSource && cfg.init.from === null) {
    ctx.addIssue({
      code: 'custom',
      path: ['init', 'from'],
      message: `finetune.strategy '${cfg.finetune.strategy}' needs the run or checkpoint to start from`,
    });
  }
  if (!finetune && cfg.init.from !== null) {
    ctx.addIssue({
      code: 'custom',
      path: ['init', 'from'],
      message: `only used with trainer.mode: finetune (mode is ${cfg.trainer.mode}); remove it or set trainer.mode: finetune`,
    });
  }
}
