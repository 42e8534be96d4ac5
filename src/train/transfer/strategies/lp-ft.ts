// `lp-ft` (Kumar et al., ICLR 2022): a good head first keeps fine-tuning from distorting the
// features; then everything trains at a lower LR so the features move only a little.
import { probePhase, type Strategy } from './types.ts';

export const lpFt: Strategy = {
  help: 'linear probe until it converges, then everything at a 10x lower LR (Kumar et al. 2022)',
  usesSource: true,
  plan: (_blocks, backbone, ft) => [
    probePhase(backbone),
    {
      name: 'finetune',
      groups: [
        { name: 'head', blocks: ['head'], lrScale: ft.ftLrScale },
        { name: 'backbone', blocks: [...backbone], lrScale: ft.ftLrScale },
      ],
    },
  ],
  phaseAt: ({ epoch, current, ft, epochs, monitorValues, monitorMode, minDelta }) => {
    if (current === 1) return 1;
    const probed = epoch - 1;
    if (ft.lpEpochs !== null) return probed >= ft.lpEpochs ? 1 : 0;
    if (probed >= maxProbeEpochs(epochs)) return 1;
    return probeConverged(monitorValues(), monitorMode, minDelta) ? 1 : 0;
  },
};

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
