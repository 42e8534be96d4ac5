// A sweep on this machine: trials in child processes (a trial host per lane), N at a time, each with
// cores ÷ N kernel threads; a crashed attempt is retried (resumed where `mtl resume` exists), a config or data error
// is not; every start, end, retry and pruning decision lands in events.jsonl as it happens.
import { appendEvent, type SweepFolder, setSweepStatus, writeSweepSummary } from './folder.ts';
import { HostPool, type TrialHost, threadsPerTrial } from './hosts.ts';
import { MemoryRungStore, type RungStore } from './pruning.ts';
import { resumeTarget } from './resume.ts';
import { buildSummary } from './summary.ts';
import { runTrialAttempt, TrialAttemptError, type TrialTask } from './trial.ts';
import type { PlannedTrial, PruneDecision, SweepStatus, SweepSummary, TrialResult } from './types.ts';

export type SweepProgressEvent =
  | { type: 'start'; trial: PlannedTrial; runId: string; attempt: number; resumed: boolean }
  | { type: 'end'; trial: PlannedTrial; result: TrialResult }
  | { type: 'retry'; trial: PlannedTrial; attempt: number; error: string; delaySeconds: number }
  | { type: 'decision'; trial: PlannedTrial; decision: PruneDecision };

export interface LocalOptions {
  runsDir: string;
  /** Trials at once. */
  jobs: number;
  onProgress?(event: SweepProgressEvent, summary: SweepSummary): void;
  /** Trial hosts started earlier (HostPool.prestart, with cores ÷ `jobs` threads); default: made here. */
  hosts?: HostPool;
  /** Abort = Ctrl-C: running trials stop after their step; the sweep is `interrupted` and resumable. */
  signal?: AbortSignal;
  /** First retry waits this long, doubling each time (default 2 s). */
  backoffSeconds?: number;
}

export function trialTask(folder: SweepFolder, t: PlannedTrial): TrialTask {
  return {
    sweepId: folder.id,
    trialId: t.trialId,
    params: t.params,
    seed: t.seed,
    config: t.config!,
    metric: folder.spec.metric,
    earlyTerminate: folder.spec.earlyTerminate,
  };
}

/** Per trial id, the run folder of its last start in events.jsonl (trials that never started: none). */
function lastRunDirs(folder: SweepFolder): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const e of folder.events) {
    if (e.event === 'start' && e.trialId && typeof e.runDir === 'string') dirs.set(e.trialId, e.runDir);
  }
  return dirs;
}

export async function runLocal(folder: SweepFolder, o: LocalOptions): Promise<SweepSummary> {
  const ctx = new LocalSweep(folder, o);
  await ctx.failUnplannable();
  const todo = folder.plan.filter((t) => t.config !== null && !folder.results.has(t.trialId));
  await appendEvent(folder.dir, { event: 'sweep-start', mode: 'local', jobs: o.jobs, trials: todo.length });
  const next = (): PlannedTrial | undefined => (o.signal?.aborted ? undefined : todo.shift());
  // Each lane hands its trials to one trial host (hosts.ts), so Node and TF.js start once per lane.
  const hosts = o.hosts ?? (HostPool.enabled() ? new HostPool(threadsPerTrial(o.jobs)) : null);
  hosts?.trim(Math.min(o.jobs, todo.length));
  const lane = async (): Promise<void> => {
    const host = hosts?.acquire() ?? null;
    for (let t = next(); t; t = next()) await ctx.runWithRetries(t, host);
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, lane));
  } finally {
    hosts?.closeAll();
  }
  const status: SweepStatus = o.signal?.aborted ? 'interrupted' : 'completed';
  const summary = await ctx.write(status);
  await appendEvent(folder.dir, { event: 'sweep-end', status });
  await setSweepStatus(folder.dir, status === 'completed' ? 'completed' : 'interrupted');
  return summary;
}

class LocalSweep {
  private readonly running = new Set<string>();
  private readonly store: RungStore = new MemoryRungStore();
  private writing: Promise<unknown> = Promise.resolve();
  /** Where each trial that had started before this run of the sweep last ran. */
  private readonly previousRuns: Map<string, string>;

  constructor(
    private readonly folder: SweepFolder,
    private readonly o: LocalOptions,
  ) {
    this.previousRuns = lastRunDirs(folder);
  }

  /** Points whose values the schema refused never run: they end `failed` at once, with the reason. */
  async failUnplannable(): Promise<void> {
    for (const t of this.folder.plan.filter((p) => p.config === null && !this.folder.results.has(p.trialId))) {
      await this.end(t, failedResult(t, t.error ?? 'invalid config', null, null, 0, 3));
    }
  }

  async runWithRetries(t: PlannedTrial, host: TrialHost | null): Promise<void> {
    const attempts = this.folder.spec.attempts;
    // A trial that had started before (a sweep stopped with Ctrl-C or killed, now resumed) goes on
    // in its run folder: resumed from its last epoch, or its result taken if that run completed.
    let lastRunDir = this.previousRuns.get(t.trialId) ?? null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.running.add(t.trialId);
      try {
        const result = await runTrialAttempt(trialTask(this.folder, t), {
          runsDir: this.o.runsDir,
          threads: threadsPerTrial(this.o.jobs),
          host,
          attempt,
          store: this.store,
          resumeDir: await resumeTarget(lastRunDir),
          signal: this.o.signal,
          onStart: (runId, runDir, resumed) => this.started(t, runId, runDir, attempt, resumed),
          onDecision: (d) => this.decided(t, d),
        });
        return await this.end(t, result);
      } catch (err) {
        if (!(err instanceof TrialAttemptError)) throw err;
        lastRunDir = err.runDir;
        // Ctrl-C: the trial stays unfinished (no end event), so `mtl sweep resume` runs it again.
        if (err.interrupted && this.o.signal?.aborted) return void this.running.delete(t.trialId);
        if (!err.retryable || attempt === attempts) {
          return await this.end(t, failedResult(t, err.message, err.runId, err.runDir, attempt, err.exitCode));
        }
        const delaySeconds = (this.o.backoffSeconds ?? 2) * 2 ** (attempt - 1);
        await appendEvent(this.folder.dir, { event: 'retry', trialId: t.trialId, attempt, error: err.message });
        this.emit({ type: 'retry', trial: t, attempt, error: err.message, delaySeconds });
        await new Promise((r) => setTimeout(r, delaySeconds * 1000));
      }
    }
  }

  private started(t: PlannedTrial, runId: string, runDir: string, attempt: number, resumed: boolean): void {
    const event = { event: 'start' as const, trialId: t.trialId, attempt, runId, runDir, resumed };
    this.writing = this.writing.then(() => appendEvent(this.folder.dir, event));
    this.emit({ type: 'start', trial: t, runId, attempt, resumed });
  }

  private decided(t: PlannedTrial, d: PruneDecision): void {
    const event = { ...d, event: d.action === 'stop' ? ('prune' as const) : ('rung' as const), trialId: t.trialId };
    this.writing = this.writing.then(() => appendEvent(this.folder.dir, event));
    this.emit({ type: 'decision', trial: t, decision: d });
  }

  private async end(t: PlannedTrial, result: TrialResult): Promise<void> {
    this.running.delete(t.trialId);
    if (this.folder.results.has(t.trialId)) return;
    this.folder.results.set(t.trialId, result);
    await appendEvent(this.folder.dir, { event: 'end', trialId: t.trialId, status: result.status, result });
    const summary = await this.write('running');
    this.o.onProgress?.({ type: 'end', trial: t, result }, summary);
  }

  private emit(e: SweepProgressEvent): void {
    this.o.onProgress?.(e, this.snapshot('running'));
  }

  snapshot(status: SweepStatus): SweepSummary {
    const endedAt = status === 'running' ? null : new Date().toISOString();
    return buildSummary({
      runId: this.folder.id,
      runDir: this.folder.dir,
      method: this.folder.spec.method,
      metric: this.folder.spec.metric,
      plan: this.folder.plan,
      results: this.folder.results,
      running: this.running,
      pending: 'planned',
      status,
      startedAt: this.folder.startedAt,
      endedAt,
    });
  }

  /** summary.json, written in order (concurrent trials end together; the newest must land last). */
  async write(status: SweepStatus): Promise<SweepSummary> {
    const summary = this.snapshot(status);
    this.writing = this.writing.then(() => writeSweepSummary(this.folder.dir, summary));
    await this.writing;
    return summary;
  }
}

export function failedResult(
  t: PlannedTrial,
  error: string,
  runId: string | null,
  runDir: string | null,
  attempt: number,
  exitCode: number | null,
): TrialResult {
  const base = { trialId: t.trialId, status: 'failed' as const, runId, runDir, host: '', summary: null };
  return { ...base, history: [], error, exitCode, attempt, seconds: 0 };
}
