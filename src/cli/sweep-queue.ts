// The queued side of `mtl sweep`: enqueue and return, status, wait, resume (re-enqueue only what the
// sweep folder lacks, even if Redis lost everything) and cancel. Loads BullMQ only when used.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Queue } from 'bullmq';
import chalk from 'chalk';
import type { Redis } from 'ioredis';
import { EnvironmentError, MtlError } from '../errors.ts';
import { readRunRecord } from '../runs/run-record.ts';
import { appendEvent, SWEEP_FILES, type SweepFolder, setSweepStatus, writeSweepSummary } from '../sweep/folder.ts';
import { cancelSweep, connect, openQueue, probeRedis, publicUrl } from '../sweep/queue.ts';
import { trialRunsIn } from '../sweep/resume.ts';
import { buildSummary } from '../sweep/summary.ts';
import { allEnded, enqueueMissing, queuedSummary, type SyncState, syncFromQueue } from '../sweep/sync.ts';
import type { SweepStatus, SweepSummary } from '../sweep/types.ts';
import { say } from './output.ts';

interface QueueRef {
  url: string;
  name: string;
}

/** The queue a sweep was enqueued on (or the one given), or null for a local sweep. */
export async function queueOf(
  folder: SweepFolder,
  o: { queue?: string; queueName?: string },
): Promise<QueueRef | null> {
  const start = folder.events.find((e) => e.event === 'sweep-start' && e.mode === 'queue');
  if (!start && !o.queue) return null;
  return { url: o.queue ?? String(start?.url), name: o.queueName ?? String(start?.queue ?? 'mtl-trials') };
}

async function withQueue<T>(
  ref: QueueRef,
  quick: boolean,
  body: (queue: Queue, redis: Redis) => Promise<T>,
): Promise<T> {
  await probeRedis(ref.url);
  const redis = connect(ref.url, quick);
  redis.on('error', () => {}); // ioredis reconnects by itself; each command reports its own failure.
  const queue = openQueue(redis, ref.name);
  try {
    return await body(queue, redis);
  } finally {
    await queue.close().catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
  }
}

export async function enqueueNew(folder: SweepFolder, url: string, name: string): Promise<SweepSummary> {
  const ref = { url, name };
  return withQueue(ref, true, async (queue) => {
    await appendEvent(folder.dir, { event: 'sweep-start', mode: 'queue', url: publicUrl(url), queue: name });
    const runnable = folder.plan.filter((t) => t.config !== null);
    const added = await enqueueMissing(folder, queue, runnable);
    const state = await syncFromQueue(folder, queue);
    const summary = queuedSummary(folder, state, 'queued', { url: publicUrl(url), name });
    await writeSweepSummary(folder.dir, summary);
    say(`enqueued ${added} trials on ${publicUrl(url)} (queue ${name})`);
    say(
      chalk.dim(
        `start workers:  mtl worker --queue ${publicUrl(url)}${name === 'mtl-trials' ? '' : ` --queue-name ${name}`}`,
      ),
    );
    say(chalk.dim(`follow:         mtl sweep status ${folder.id}   |   mtl sweep wait ${folder.id}`));
    return summary;
  });
}

function statusOf(folder: SweepFolder, state: SyncState): SweepStatus {
  if (allEnded(folder)) return 'completed';
  return state.running.size > 0 || folder.results.size > 0 ? 'running' : 'queued';
}

async function syncAndWrite(
  folder: SweepFolder,
  queue: Queue,
  ref: QueueRef,
): Promise<{ state: SyncState; summary: SweepSummary }> {
  const state = await syncFromQueue(folder, queue);
  const status = statusOf(folder, state);
  const summary = queuedSummary(folder, state, status, { url: publicUrl(ref.url), name: ref.name });
  await writeSweepSummary(folder.dir, summary);
  if (status === 'completed' && (await readRunRecord(folder.dir)).status !== 'completed') {
    await appendEvent(folder.dir, { event: 'sweep-end', status });
    await setSweepStatus(folder.dir, 'completed');
  }
  return { state, summary };
}

export async function statusQueued(
  folder: SweepFolder,
  o: { queue?: string; queueName?: string },
): Promise<SweepSummary> {
  const ref = (await queueOf(folder, o))!;
  try {
    await probeRedis(ref.url);
  } catch (err) {
    const recorded = err instanceof EnvironmentError ? await recordedSummary(folder) : null;
    if (!recorded) throw err;
    // The folder is the source of truth: without Redis, show what it recorded at its last sync.
    say(chalk.yellow(`${(err as Error).message.replace(/ \(is redis-server.*$/, '')}`));
    say(
      chalk.yellow(
        `showing the state the sweep folder recorded at ${recorded.at} (finished trials since then are not in it)`,
      ),
    );
    return recorded.summary;
  }
  return withQueue(ref, true, async (queue) => {
    const { state, summary } = await syncAndWrite(folder, queue, ref);
    if (state.missing.length > 0) {
      say(
        chalk.yellow(`${state.missing.length} unfinished trials are not on the queue: mtl sweep resume ${folder.id}`),
      );
    }
    return summary;
  });
}

/** The sweep's summary.json and when it was written, or null when it has none. */
async function recordedSummary(folder: SweepFolder): Promise<{ summary: SweepSummary; at: string } | null> {
  const file = join(folder.dir, SWEEP_FILES.summary);
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { summary: JSON.parse(text) as SweepSummary, at: st.mtime.toISOString() };
  } catch {
    return null;
  }
}

/** A local sweep as its folder records it (trials started and not ended show as running). */
export async function statusLocal(folder: SweepFolder): Promise<SweepSummary> {
  const record = await readRunRecord(folder.dir);
  const started = new Set(folder.events.filter((e) => e.event === 'start').map((e) => String(e.trialId)));
  const running = new Set([...started].filter((id) => !folder.results.has(id)));
  const status: SweepStatus =
    record.status === 'running' ? 'running' : record.status === 'completed' ? 'completed' : 'interrupted';
  return buildSummary({
    runId: folder.id,
    runDir: folder.dir,
    method: folder.spec.method,
    metric: folder.spec.metric,
    plan: folder.plan,
    results: folder.results,
    running,
    pending: 'planned',
    status,
    startedAt: folder.startedAt,
    endedAt: record.endedAt,
  });
}

/** Polls the queue until every trial ended; a trial missing from Redis is an error naming the fix. */
export async function waitQueued(
  folder: SweepFolder,
  o: { queue?: string; queueName?: string; timeout?: number },
): Promise<SweepSummary> {
  const ref = (await queueOf(folder, o))!;
  const deadline = o.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.timeout * 1000;
  return withQueue(ref, false, async (queue) => {
    let reported = -1;
    for (;;) {
      const { state, summary } = await syncAndWrite(folder, queue, ref);
      if (summary.status === 'completed') return summary;
      if (state.missing.length > 0 && state.running.size === 0 && state.queued.size === 0) {
        throw new MtlError(
          `${state.missing.length} unfinished trials are not on the queue (was Redis emptied?): mtl sweep resume ${folder.id} re-enqueues them`,
        );
      }
      const done = folder.results.size;
      if (done !== reported)
        say(
          chalk.dim(
            `${done}/${folder.plan.length} trials ended, ${state.running.size} running, ${state.queued.size} queued`,
          ),
        );
      reported = done;
      if (Date.now() > deadline)
        throw new MtlError(`timed out after ${o.timeout} s: ${done}/${folder.plan.length} trials ended`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
}

export async function resumeQueued(
  folder: SweepFolder,
  o: { queue?: string; queueName?: string },
): Promise<SweepSummary> {
  const ref = (await queueOf(folder, o))!;
  return withQueue(ref, true, async (queue) => {
    const state = await syncFromQueue(folder, queue);
    // Trials that had started go on from their run folders where the workers share this runs dir.
    const added = await enqueueMissing(folder, queue, state.missing, await trialRunsIn(dirname(folder.dir), folder.id));
    await appendEvent(folder.dir, { event: 'resume', mode: 'queue', added });
    await setSweepStatus(folder.dir, 'running');
    say(
      `${folder.results.size} trials had ended; re-enqueued ${added} missing, ${state.running.size + state.queued.size} still on the queue`,
    );
    const summary = queuedSummary(folder, state, 'queued', { url: publicUrl(ref.url), name: ref.name });
    await writeSweepSummary(folder.dir, summary);
    return summary;
  });
}

export async function cancelQueued(
  folder: SweepFolder,
  o: { queue?: string; queueName?: string },
): Promise<SweepSummary> {
  const ref = (await queueOf(folder, o))!;
  return withQueue(ref, true, async (queue, redis) => {
    const removed = await cancelSweep(queue, redis, folder.id, folder.plan);
    const state = await syncFromQueue(folder, queue);
    await appendEvent(folder.dir, { event: 'cancel', removed, running: state.running.size });
    await setSweepStatus(folder.dir, 'interrupted');
    say(
      `cancelled ${folder.id}: ${removed} waiting trials removed; ${state.running.size} running trials stop after their step`,
    );
    const summary = queuedSummary(folder, state, 'cancelled', { url: publicUrl(ref.url), name: ref.name });
    await writeSweepSummary(folder.dir, summary);
    return summary;
  });
}
