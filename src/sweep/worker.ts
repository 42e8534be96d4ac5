// `mtl worker`: takes trials from the queue on any machine that reaches Redis and runs each in a
// child process, a trial host per slot (TF.js would block the event loop and starve BullMQ's lock renewal: taskforcesh/
// bullmq #3078, #3183). A crash is retried by BullMQ with backoff, a config/data error is not, a
// killed worker's trial is taken over once its lock lapses, SIGTERM hands the trial back at once.
import { hostname } from 'node:os';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { HostPool, type TrialHost, threadsPerTrial } from './hosts.ts';
import { connect, isCancelled, RedisRungStore, type TrialJobData } from './queue.ts';
import { resumeTarget } from './resume.ts';
import { runTrialAttempt, TrialAttemptError } from './trial.ts';
import type { TrialResult } from './types.ts';

export interface WorkerOptions {
  url: string;
  queueName: string;
  runsDir: string;
  concurrency: number;
  /** How long a worker that went silent keeps its trial before another takes it over. */
  lockSeconds: number;
  /** A disconnect not followed by `ready` within this time recreates the BullMQ worker (bullmq #2466). */
  reconnectSeconds: number;
  log(line: string): void;
}

export interface RunningWorker {
  /** SIGTERM: running trials stop after their step and go back on the queue; then the worker closes. */
  stop(): Promise<void>;
  closed: Promise<void>;
}

export function startWorker(o: WorkerOptions): RunningWorker {
  const redis = connect(o.url);
  const trials = new Set<AbortController>();
  // A trial host per trial running at once (hosts.ts): Node and TF.js start once per slot, not per
  // trial, and before the first job arrives, so that job does not wait for them.
  const hosts = HostPool.enabled() ? new HostPool(threadsPerTrial(o.concurrency)).prestart(o.concurrency) : null;
  const errors = repeatFilter(o.log);
  let worker = createWorker(o, redis, trials, hosts, errors);
  let stopping = false;
  let finish: () => void = () => {};
  const closed = new Promise<void>((r) => {
    finish = r;
  });
  let watchdog: NodeJS.Timeout | null = null;
  redis.on('close', () => {
    if (stopping || watchdog) return;
    o.log(`redis connection lost; waiting for it to come back`);
    watchdog = setTimeout(() => void recreate(), o.reconnectSeconds * 1000);
  });
  redis.on('ready', () => {
    if (!watchdog) return;
    clearTimeout(watchdog);
    watchdog = null;
    o.log('redis connection back');
    // bullmq #2466: after a Redis restart a worker could stay idle with a healthy connection.
    if (!worker.isRunning() && !stopping) void recreate();
  });
  const recreate = async (): Promise<void> => {
    watchdog = null;
    if (stopping) return;
    o.log('recreating the queue worker');
    await worker.close(true).catch(() => {});
    worker = createWorker(o, redis, trials, hosts, errors);
  };
  return {
    closed,
    async stop() {
      stopping = true;
      if (watchdog) clearTimeout(watchdog);
      for (const c of trials) c.abort();
      // With Redis gone, a graceful close would wait for it forever (commands retry without limit):
      // then the trials cannot be handed back, and their locks lapse as a killed worker's would.
      const graceful = redis.status === 'ready';
      await worker.close(!graceful);
      hosts?.closeAll();
      if (graceful) await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
      finish();
    },
  };
}

/** Logs a queue error once a minute at most: while Redis is down, each of BullMQ's connections
 *  reports every reconnect attempt (several a second). */
function repeatFilter(log: (line: string) => void): (err: Error) => void {
  let last = '';
  let at = 0;
  return (err) => {
    const now = Date.now();
    if (err.message === last && now - at < 60_000) return;
    last = err.message;
    at = now;
    log(`queue error: ${err.message}`);
  };
}

function createWorker(
  o: WorkerOptions,
  redis: Redis,
  trials: Set<AbortController>,
  hosts: HostPool | null,
  onError: (err: Error) => void,
): Worker {
  const worker = new Worker(
    o.queueName,
    async (job: Job, token?: string) => {
      const host = hosts?.acquire() ?? null;
      try {
        return await processTrial(job, token, o, redis, trials, host);
      } finally {
        if (host) hosts?.release(host);
      }
    },
    {
      connection: redis,
      concurrency: o.concurrency,
      lockDuration: o.lockSeconds * 1000,
      stalledInterval: o.lockSeconds * 1000,
      // A trial whose worker died is handed on this many times before it counts as failed.
      maxStalledCount: 5,
      name: `${hostname()}:${process.pid}`,
    },
  );
  worker.on('error', onError);
  worker.on('failed', (job, err) => job && o.log(`trial ${job.data.trialId} attempt failed: ${err.message}`));
  return worker;
}

async function processTrial(
  job: Job,
  token: string | undefined,
  o: WorkerOptions,
  redis: Redis,
  trials: Set<AbortController>,
  host: TrialHost | null,
): Promise<TrialResult> {
  const data = job.data as TrialJobData;
  if (await isCancelled(redis, data.sweepId)) throw new UnrecoverableError('the sweep was cancelled');
  // A worker that died mid-trial leaves the job stalled, not failed: count that attempt too.
  const attempt = job.attemptsMade + job.stalledCounter + 1;
  const controller = new AbortController();
  trials.add(controller);
  const log = (event: Record<string, unknown>): void =>
    void job.log(JSON.stringify({ t: new Date().toISOString(), ...event })).catch(() => {});
  const cancelPoll = setInterval(async () => {
    if (await isCancelled(redis, data.sweepId).catch(() => false)) controller.abort();
  }, 2000);
  try {
    const result = await runTrialAttempt(data, {
      runsDir: o.runsDir,
      threads: threadsPerTrial(o.concurrency),
      host,
      attempt,
      store: new RedisRungStore(redis, data.sweepId),
      resumeDir: await resumeTarget(data.lastRun?.runDir),
      signal: controller.signal,
      onStart: (runId, runDir, resumed) => {
        o.log(`trial ${data.trialId} attempt ${attempt}: ${resumed ? 'resuming' : 'running'} ${runId}`);
        log({ event: 'start', attempt, runId, runDir, resumed, host: hostname() });
        void job.updateData({ ...data, lastRun: { runId, runDir, host: hostname() } }).catch(() => {});
      },
      onDecision: (d) => log({ ...d, event: d.action === 'stop' ? 'prune' : 'rung' }),
    });
    o.log(`trial ${data.trialId}: ${result.status} (${result.seconds.toFixed(1)} s)`);
    return result;
  } catch (err) {
    throw await handOff(err, job, token, controller, redis, data, log);
  } finally {
    clearInterval(cancelPoll);
    trials.delete(controller);
  }
}

/** The error BullMQ should see: back to wait (SIGTERM), failed for good (config/data), or retried. */
async function handOff(
  err: unknown,
  job: Job,
  token: string | undefined,
  controller: AbortController,
  redis: Redis,
  data: TrialJobData,
  log: (e: Record<string, unknown>) => void,
): Promise<Error> {
  if (!(err instanceof TrialAttemptError)) return err as Error;
  if (controller.signal.aborted && (await isCancelled(redis, data.sweepId).catch(() => false))) {
    return new UnrecoverableError('the sweep was cancelled');
  }
  if (err.interrupted && controller.signal.aborted) {
    // Handed back now rather than after the lock lapses; the next worker resumes or restarts it.
    log({ event: 'retry', reason: 'worker stopped (SIGTERM)', attempt: job.attemptsMade + 1 });
    await job.moveToWait(token);
    return new WaitingError();
  }
  // A worker that died mid-trial leaves the job stalled, not failed: count that attempt too.
  const attempt = job.attemptsMade + job.stalledCounter + 1;
  // Only an attempt BullMQ will repeat is a retry; the final failure arrives as the trial's end.
  if (err.retryable && attempt < (job.opts.attempts ?? 1)) log({ event: 'retry', attempt, error: err.message });
  return err.retryable ? new Error(err.message) : new UnrecoverableError(err.message);
}
