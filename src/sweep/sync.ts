// The coordinator's side of a queued sweep: brings what the workers finished from Redis into the
// sweep folder (their logged events, then the `end` event with the result, once per trial), and
// re-enqueues what is missing. The folder stays the source of truth; Redis is only the transport.
import type { Queue } from 'bullmq';
import { appendEvent, parseJsonl, type SweepEvent, type SweepFolder, writeSweepSummary } from './folder.ts';
import { failedResult, trialTask } from './local.ts';
import { enqueueTrials, type LastRun, viewTrial } from './queue.ts';
import { buildSummary } from './summary.ts';
import type { PlannedTrial, SweepStatus, SweepSummary, TrialResult } from './types.ts';

export interface SyncState {
  running: Set<string>;
  queued: Set<string>;
  /** Unfinished trials that have no job (never enqueued, or Redis lost its data). */
  missing: PlannedTrial[];
  /** Trials whose end was recorded by this sync. */
  ended: number;
}

export async function syncFromQueue(folder: SweepFolder, queue: Queue): Promise<SyncState> {
  const state: SyncState = { running: new Set(), queued: new Set(), missing: [], ended: 0 };
  for (const t of folder.plan) {
    if (folder.results.has(t.trialId)) continue;
    if (t.config === null) {
      await recordEnd(folder, t, failedResult(t, t.error ?? 'invalid config', null, null, 0, 3), []);
      state.ended++;
      continue;
    }
    const view = await viewTrial(queue, folder.id, t);
    if (view.state === 'ended') {
      await recordEnd(folder, t, view.result, view.logs);
      state.ended++;
    } else if (view.state === 'missing') state.missing.push(t);
    else state[view.state].add(t.trialId);
  }
  return state;
}

/** The worker's own events (start, rung, prune, retry: logged on the job) first, then the end. */
async function recordEnd(folder: SweepFolder, t: PlannedTrial, result: TrialResult, logs: string[]): Promise<void> {
  for (const e of parseJsonl<SweepEvent>(logs.join('\n'))) await appendEvent(folder.dir, { ...e, trialId: t.trialId });
  await appendEvent(folder.dir, { event: 'end', trialId: t.trialId, status: result.status, result });
  folder.results.set(t.trialId, result);
}

/** Enqueues the folder's unfinished trials that have no job, each with the run folder it had started in
 *  if known (`lastRuns`, by trial id); returns how many were added. */
export async function enqueueMissing(
  folder: SweepFolder,
  queue: Queue,
  missing: readonly PlannedTrial[],
  lastRuns: ReadonlyMap<string, LastRun> = new Map(),
): Promise<number> {
  if (missing.length === 0) return 0;
  const added = await enqueueTrials(
    queue,
    missing.map((t) => trialTask(folder, t)),
    folder.spec.attempts,
    lastRuns,
  );
  await appendEvent(folder.dir, { event: 'enqueue', trials: missing.map((t) => t.trialId), added });
  return added;
}

export function queuedSummary(
  folder: SweepFolder,
  state: Pick<SyncState, 'running'>,
  status: SweepStatus,
  queue: { url: string; name: string },
): SweepSummary {
  return buildSummary({
    runId: folder.id,
    runDir: folder.dir,
    method: folder.spec.method,
    metric: folder.spec.metric,
    plan: folder.plan,
    results: folder.results,
    running: state.running,
    pending: 'queued',
    status,
    startedAt: folder.startedAt,
    endedAt: status === 'completed' || status === 'cancelled' ? new Date().toISOString() : null,
    queue,
  });
}

export async function writeQueuedSummary(folder: SweepFolder, summary: SweepSummary): Promise<void> {
  await writeSweepSummary(folder.dir, summary);
}

/** Every planned trial has ended (completed, pruned or failed). */
export function allEnded(folder: SweepFolder): boolean {
  return folder.plan.every((t) => folder.results.has(t.trialId));
}
