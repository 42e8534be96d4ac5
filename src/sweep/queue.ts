// Scale-out on BullMQ + Redis: one job per trial (job id = sweep id + trial id, so a duplicate
// enqueue collapses), retries with exponential backoff, results carried in the job's return value
// so the sweep folder fills in even when workers share no file system with it.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { EnvironmentError, UsageError } from '../errors.ts';
import type { RungStore } from './pruning.ts';
import type { TrialTask } from './trial.ts';
import type { PlannedTrial, TrialResult } from './types.ts';

export const DEFAULT_QUEUE_NAME = 'mtl-trials';
/** First retry after 5 s, then 10 s, 20 s …: a crashed machine usually needs a moment, not a storm. */
export const RETRY_BACKOFF_MS = 5000;

/** What a job carries: the trial, and where its latest attempt ran (so a retry may resume it). */
export interface TrialJobData extends TrialTask {
  lastRun?: { runId: string; runDir: string; host: string } | null;
}

export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--queue ${url}: expected a Redis URL such as redis://127.0.0.1:6379/0`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--queue ${url}: expected redis:// or rediss://, got ${parsed.protocol}`);
  }
  return url;
}

/** A Redis URL without its password, as printed and recorded (give --queue again to use one). */
export function publicUrl(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/**
 * Fails fast (exit 5, naming the URL and why) unless Redis answers a PING within `timeoutMs`: the
 * clients below wait out an outage forever, which is right once a sweep or worker runs (a Redis
 * restart) and wrong for a command started against a wrong address or a server that is not up.
 */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis(checkQueueUrl(url), {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let failure = '';
  client.on('error', (err: Error) => {
    failure ||= err.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const why = failure || (err as Error).message;
    throw new EnvironmentError(
      `cannot reach Redis at ${publicUrl(url)}: ${why} (is redis-server running there? start one with ` +
        '`redis-server --port 6379`, or give --queue the right address)',
    );
  } finally {
    client.disconnect();
  }
}

/**
 * An ioredis client for BullMQ. maxRetriesPerRequest null: BullMQ requires it for workers (a command
 * must wait out a Redis restart rather than fail); `quick` clients (sweep status) give up sooner.
 */
export function connect(url: string, quick = false): Redis {
  return new Redis(checkQueueUrl(url), {
    maxRetriesPerRequest: quick ? 3 : null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
}

export function openQueue(connection: Redis, name: string): Queue {
  return new Queue(name, { connection });
}

/** BullMQ forbids ':' in custom ids; '.' is safe in run ids and hashes alike. */
export function jobId(sweepId: string, trialId: string): string {
  return `${sweepId}.${trialId}`;
}

export type LastRun = NonNullable<TrialJobData['lastRun']>;

/**
 * Adds one job per trial; jobs that already exist (same id) are left as they are. `lastRuns`: the run
 * folder a trial had started in (by trial id), which the worker that takes it goes on from.
 */
export async function enqueueTrials(
  queue: Queue,
  tasks: readonly TrialTask[],
  attempts: number,
  lastRuns: ReadonlyMap<string, LastRun> = new Map(),
): Promise<number> {
  const before = await Promise.all(tasks.map((t) => queue.getJob(jobId(t.sweepId, t.trialId))));
  await queue.addBulk(
    tasks.map((t) => ({
      name: 'trial',
      data: { ...t, lastRun: lastRuns.get(t.trialId) ?? null } satisfies TrialJobData,
      opts: {
        jobId: jobId(t.sweepId, t.trialId),
        attempts,
        backoff: { type: 'exponential', delay: RETRY_BACKOFF_MS },
        // Kept, not removed: a kept job is what makes a duplicate enqueue collapse into it.
        removeOnComplete: false,
        removeOnFail: false,
      },
    })),
  );
  return before.filter((j) => !j).length;
}

export type JobView =
  | { state: 'ended'; result: TrialResult; logs: string[] }
  | { state: 'running' | 'queued' }
  | { state: 'missing' };

/** Where one trial stands on the queue. A job that failed for good becomes a `failed` result. */
export async function viewTrial(queue: Queue, sweepId: string, t: PlannedTrial): Promise<JobView> {
  const id = jobId(sweepId, t.trialId);
  // State first, then the job: read the other way round, a trial that completes in between shows as
  // completed with the hash read while it was active (no return value yet).
  const state = await queue.getJobState(id);
  const job = await queue.getJob(id);
  if (!job || state === 'unknown') return { state: 'missing' };
  if (state === 'completed' || state === 'failed') {
    const { logs } = await queue.getJobLogs(job.id!);
    if (state === 'completed') return { state: 'ended', result: job.returnvalue as TrialResult, logs };
    const data = job.data as TrialJobData;
    const result: TrialResult = {
      trialId: t.trialId,
      status: 'failed',
      runId: data.lastRun?.runId ?? null,
      runDir: data.lastRun?.runDir ?? null,
      host: data.lastRun?.host ?? '',
      summary: null,
      history: [],
      error: job.failedReason,
      exitCode: null,
      attempt: job.attemptsMade,
      seconds: 0,
    };
    return { state: 'ended', result, logs };
  }
  return { state: state === 'active' ? 'running' : 'queued' };
}

/** Keys of a sweep's own state in Redis (next to BullMQ's `bull:` keys). */
export const sweepKeys = {
  epoch: (sweepId: string, epoch: number) => `mtl:sweep:${sweepId}:epoch:${epoch}`,
  cancelled: (sweepId: string) => `mtl:sweep:${sweepId}:cancelled`,
};

/** Pruning state shared by all workers: one hash per epoch, first value per trial wins (HSETNX). */
export class RedisRungStore implements RungStore {
  constructor(
    private readonly redis: Redis,
    private readonly sweepId: string,
  ) {}
  async record(epoch: number, trialId: string, value: number): Promise<Map<string, number>> {
    const key = sweepKeys.epoch(this.sweepId, epoch);
    await this.redis.hsetnx(key, trialId, String(value));
    const all = await this.redis.hgetall(key);
    return new Map(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }
}

export async function cancelSweep(queue: Queue, redis: Redis, sweepId: string, plan: PlannedTrial[]): Promise<number> {
  await redis.set(sweepKeys.cancelled(sweepId), '1');
  let removed = 0;
  for (const t of plan) {
    const job = await queue.getJob(jobId(sweepId, t.trialId));
    const state = await job?.getState();
    if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
      await job.remove();
      removed++;
    }
  }
  return removed;
}

export async function isCancelled(redis: Redis, sweepId: string): Promise<boolean> {
  return (await redis.get(sweepKeys.cancelled(sweepId))) === '1';
}
