// One attempt at one trial: `mtl train` of the trial's resolved config in a child process (a slot's
// trial host, or one of its own; hosts.ts) — so a trial equals a standalone run bit for bit, and
// TF.js never blocks the sweep's or worker's event loop — its metrics.jsonl followed epoch by epoch
// for pruning, its `--json` summary as the result.
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stringifyConfig } from '../config/print.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { EXIT } from '../errors.ts';
import { makeRunId } from '../runs/run-id.ts';
import { followMetrics } from './follow.ts';
import { spawnTrial, type TrialHost } from './hosts.ts';
import type { RungStore } from './pruning.ts';
import { recordedThreads } from './resume.ts';
import type { EarlyTerminate, ParamValue, PruneDecision, TrialResult } from './types.ts';

/** Everything a machine needs to run a trial: also the data of its BullMQ job. */
export interface TrialTask {
  sweepId: string;
  trialId: string;
  params: Record<string, ParamValue>;
  seed: number;
  config: ResolvedConfig;
  metric: string;
  earlyTerminate: EarlyTerminate | null;
}

export interface AttemptOptions {
  runsDir: string;
  /** MTL_THREADS of the child: cores ÷ trials at once, so parallel trials never oversubscribe. */
  threads: number;
  /** The slot's trial host; without one (or resuming) the attempt gets a process of its own. */
  host?: TrialHost | null;
  attempt: number;
  store: RungStore;
  /** Resume this run folder with `mtl resume` instead of starting a fresh run. */
  resumeDir?: string | null;
  onStart?(runId: string, runDir: string, resumed: boolean): void;
  onDecision?(decision: PruneDecision): void;
  /** Aborting stops the trial (SIGINT: it ends after the current step, marked interrupted). */
  signal?: AbortSignal;
}

/** A failed attempt. `retryable` is false for config, data and usage errors (exit 2 and 3). */
export class TrialAttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly exitCode: number | null,
    readonly runId: string | null,
    readonly runDir: string | null,
    readonly interrupted = false,
  ) {
    super(message);
    this.name = 'TrialAttemptError';
  }
}

/**
 * One attempt; a resume that `mtl resume` refuses (exit 2 or 3: a changed config, a damaged
 * checkpoint) falls back to a fresh run at once, since the result is the same either way.
 */
export async function runTrialAttempt(task: TrialTask, o: AttemptOptions): Promise<TrialResult> {
  if (!o.resumeDir) return runOnce(task, o);
  try {
    return await runOnce(task, o);
  } catch (err) {
    if (!(err instanceof TrialAttemptError) || err.retryable || err.interrupted) throw err;
    return runOnce(task, { ...o, resumeDir: null });
  }
}

async function runOnce(task: TrialTask, o: AttemptOptions): Promise<TrialResult> {
  const started = performance.now();
  const runsDir = resolve(o.runsDir);
  const resumed = Boolean(o.resumeDir);
  const runDir = o.resumeDir ?? join(runsDir, makeRunId(task.config.name));
  const runId = basename(runDir);
  const args = resumed
    ? ['resume', runDir, '--json', '--runs-dir', runsDir]
    : ['train', await writeTrialConfig(runsDir, task), '--json', '--runs-dir', runsDir, '--run-id', runId];
  // The sweep is the trial run's parent (run.json parentRunId), as a transfer is its children's.
  if (!resumed) args.push('--parent-run-id', task.sweepId);
  o.onStart?.(runId, runDir, resumed);
  // `mtl resume` holds its run's lock until its process exits: a resumed attempt gets its own.
  const threads = (resumed && (await recordedThreads(runDir))) || o.threads;
  const child = o.host && !resumed ? o.host.start(args, task.config.backend) : spawnTrial(args, threads);
  let pruned: PruneDecision | undefined;
  const follower = followMetrics(join(runDir, 'metrics.jsonl'), task, o, (d) => {
    pruned = d;
    child.stop(); // stops after the current step; its summary says how far it got
  });
  const onAbort = (): void => child.stop();
  o.signal?.addEventListener('abort', onAbort);
  const { code, stdout, stderr } = await child.done;
  o.signal?.removeEventListener('abort', onAbort);
  const history = await follower.stop();
  const seconds = (performance.now() - started) / 1000;
  const summary = parseSummary(stdout);
  const base = { trialId: task.trialId, runId, runDir, host: hostname(), history, attempt: o.attempt, seconds };
  if (code === EXIT.OK && summary) return { ...base, status: 'completed', summary, exitCode: code };
  if (pruned && summary) return { ...base, status: 'pruned', summary, exitCode: code, pruned };
  throw attemptError(code, stderr, runId, runDir, o.signal?.aborted ?? false);
}

/** The resolved config as a YAML file the child trains: `<runs>/.sweep-configs/<trialId>.yaml`. */
async function writeTrialConfig(runsDir: string, task: TrialTask): Promise<string> {
  const dir = join(runsDir, '.sweep-configs');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${task.trialId}.yaml`);
  await writeFile(file, stringifyConfig(task.config));
  return file;
}

function parseSummary(text: string): Record<string, unknown> | null {
  const start = text.indexOf('{');
  if (start < 0) return null;
  try {
    return JSON.parse(text.slice(start)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function attemptError(
  code: number | null,
  stderr: string,
  runId: string,
  runDir: string,
  aborted: boolean,
): TrialAttemptError {
  const lines = stderr.trim().split('\n');
  const errorAt = lines.map((l) => l.startsWith('error:')).lastIndexOf(true);
  const message =
    errorAt >= 0
      ? lines
          .slice(errorAt)
          .join('\n')
          .replace(/^error: /, '')
      : `the trial exited with code ${code}${lines.length ? `: ${lines.at(-1)}` : ''}`;
  // Usage and config/data errors fail the same way every time: retrying only wastes a slot.
  const retryable = code !== EXIT.USAGE && code !== EXIT.INVALID_INPUT;
  return new TrialAttemptError(message, retryable, code, runId, runDir, aborted || code === EXIT.INTERRUPTED);
}
