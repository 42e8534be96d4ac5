// Early termination as pure arithmetic (tested by hand) plus one small driver over a shared store
// of reported values: in memory for a local sweep, in Redis when workers on many machines compete.
import type { EarlyTerminate, PruneDecision } from './types.ts';

export type Direction = 'max' | 'min';

/**
 * ASHA's rung epochs: minEpochs·eta^k below maxEpochs (a trial that reaches maxEpochs is done, so
 * there is nothing left to decide there). Li et al., "A System for Massively Parallel
 * Hyperparameter Tuning", MLSys 2020, with the minimum early-stopping rate s = 0.
 */
export function ashaRungs(minEpochs: number, eta: number, maxEpochs: number): number[] {
  const rungs: number[] = [];
  for (let r = minEpochs; r < maxEpochs; r *= eta) rungs.push(r);
  return rungs;
}

/** 1 + how many values are strictly better (ties share the better rank). */
export function rankOf(value: number, values: readonly number[], direction: Direction): number {
  return 1 + values.filter((v) => (direction === 'max' ? v > value : v < value)).length;
}

/**
 * A trial at a rung goes on when it is among the top ⌊n/eta⌋ of the n values recorded there so far
 * (its own included). While n < eta that is 0, and, as in Optuna's SuccessiveHalvingPruner (which
 * cannot pause trials to wait for more), the top 1 goes on: a trial must match the best so far.
 */
export function ashaPromotes(
  value: number,
  values: readonly number[],
  eta: number,
  direction: Direction,
): { promote: boolean; rank: number; of: number; keep: number; cutoff: number } {
  const keep = Math.max(1, Math.floor(values.length / eta));
  const sorted = [...values].sort((a, b) => (direction === 'max' ? b - a : a - b));
  const cutoff = sorted[keep - 1]!;
  const rank = rankOf(value, values, direction);
  return { promote: rank <= keep, rank, of: values.length, keep, cutoff };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Optuna's MedianPruner: stop when the trial's best value so far is worse than the median of what
 * the other trials reported at the same epoch, once at least minTrials of them have.
 */
export function medianStops(best: number, others: readonly number[], minTrials: number, direction: Direction): boolean {
  if (others.length < minTrials) return false;
  const m = median(others);
  return direction === 'max' ? best < m : best > m;
}

/** Values reported at one epoch, shared by every trial of a sweep. */
export interface RungStore {
  /** Records trialId's value at `epoch` and returns every value recorded there, by trial. */
  record(epoch: number, trialId: string, value: number): Promise<Map<string, number>>;
}

export class MemoryRungStore implements RungStore {
  private readonly epochs = new Map<number, Map<string, number>>();
  async record(epoch: number, trialId: string, value: number): Promise<Map<string, number>> {
    const at = this.epochs.get(epoch) ?? new Map<string, number>();
    this.epochs.set(epoch, at);
    // A retried trial reports the same epoch again; its first value stands (runs are deterministic).
    if (!at.has(trialId)) at.set(trialId, value);
    return new Map(at);
  }
}

export interface Report {
  trialId: string;
  epoch: number;
  value: number;
  /** Best value of the trial so far (this epoch included). */
  best: number;
  maxEpochs: number;
  direction: Direction;
}

/** The decision at this epoch (continue or stop), or null when the pruner has nothing to say. */
export async function decide(rule: EarlyTerminate, store: RungStore, r: Report): Promise<PruneDecision | null> {
  if (rule.type === 'asha') {
    const rungs = ashaRungs(rule.minEpochs, rule.eta, r.maxEpochs);
    const rung = rungs.indexOf(r.epoch);
    if (rung < 0) return null;
    const values = [...(await store.record(r.epoch, r.trialId, r.value)).values()];
    const a = ashaPromotes(r.value, values, rule.eta, r.direction);
    const action = a.promote ? 'continue' : 'stop';
    const reason = `rung ${rung} (epoch ${r.epoch}): rank ${a.rank} of ${a.of}, top ${a.keep} go on`;
    return {
      action,
      pruner: 'asha',
      epoch: r.epoch,
      rung,
      rank: a.rank,
      of: a.of,
      value: r.value,
      cutoff: a.cutoff,
      reason,
    };
  }
  const all = await store.record(r.epoch, r.trialId, r.value);
  all.delete(r.trialId);
  if (r.epoch < rule.minEpochs || r.epoch >= r.maxEpochs) return null;
  const others = [...all.values()];
  if (!medianStops(r.best, others, rule.minTrials, r.direction)) return null;
  const m = median(others);
  const reason = `epoch ${r.epoch}: best so far ${r.best.toFixed(4)} is worse than the median ${m.toFixed(4)} of ${others.length} trials`;
  return { action: 'stop', pruner: 'median', epoch: r.epoch, value: r.best, cutoff: m, of: others.length, reason };
}
