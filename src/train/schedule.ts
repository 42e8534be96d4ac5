// Learning-rate schedules (constant, step, cosine) with linear warmup, as pure functions of the step.
import type { ScheduleConfig } from '../config/types.ts';

export interface ScheduleContext {
  baseLr: number;
  stepsPerEpoch: number;
  totalEpochs: number;
}

/** Learning rate for optimisation step `step` (0-based, counted across epochs). */
export function learningRateAt(step: number, schedule: ScheduleConfig, ctx: ScheduleContext): number {
  const warmupSteps = Math.round(schedule.warmupEpochs * ctx.stepsPerEpoch);
  if (step < warmupSteps) return (ctx.baseLr * (step + 1)) / warmupSteps;
  switch (schedule.name) {
    case 'constant':
      return ctx.baseLr;
    case 'step': {
      const epoch = Math.floor(step / ctx.stepsPerEpoch);
      return ctx.baseLr * schedule.gamma ** Math.floor(epoch / schedule.stepEpochs);
    }
    case 'cosine': {
      const total = Math.max(1, ctx.totalEpochs * ctx.stepsPerEpoch - warmupSteps);
      const progress = Math.min(1, (step - warmupSteps) / total);
      return schedule.minLr + (ctx.baseLr - schedule.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
  }
}
