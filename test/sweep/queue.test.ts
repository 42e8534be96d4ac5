// Sweeps on BullMQ with a real redis-server of the test's own: two workers give the local sweep's
// results (one SIGKILLed mid-trial, its trial finished exactly once by the other; a data error not
// retried), a duplicate enqueue collapses, Redis restarted mid-sweep, and a SIGTERMed worker plus
// a Redis that lost its data, after which `mtl sweep resume` re-enqueues only what was missing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { enqueueTrials } from '../../src/sweep/queue.ts';
import type { SweepSummary } from '../../src/sweep/types.ts';
import {
  exited,
  metricsWithoutTime,
  mtl,
  readJsonl,
  redisSkipReason,
  runRecord,
  spawnMtl,
  startRedis,
  type TestRedis,
  tempDir,
  waitFor,
} from './helpers.ts';

const skip = redisSkipReason();
let redis: TestRedis;
before(async () => {
  if (!skip) redis = await startRedis(true);
});
after(async () => {
  await redis?.stop();
});

const SMALL = ['--epochs', '2', '--limit', '500'];
/** Long enough to SIGKILL a worker after its trial's first epoch, while it still trains. */
const LONGER = ['--epochs', '6', '--limit', '3000'];
/** Trials that train for a second or more (20 epochs of 3,000 rows): a trial seen training is still
 *  training when a signal sent then lands (SMALL's take a few hundred ms, most of it testing). */
const STOPPABLE = ['--epochs', '20', '--limit', '3000'];

function sweepFile(dir: string): string {
  const file = join(dir, 'sweep.yaml');
  const base = join(import.meta.dirname, '..', '..', 'configs', 'mnist-mlp.yaml');
  writeFileSync(
    file,
    `sweep:\n  base: ${base}\n  attempts: 3\n  parameters:\n    data.dataset: [mnist, "idx:/nonexistent-mtl-data"]\n    trainer.optimizer.lr: [0.001, 0.003]\n`,
  );
  return file;
}

function worker(url: string, queueName: string, runsDir: string, lockSeconds = 2) {
  return spawnMtl([
    'worker',
    '--queue',
    url,
    '--queue-name',
    queueName,
    '--runs-dir',
    runsDir,
    '--lock-seconds',
    String(lockSeconds),
  ]);
}

test('two workers (one SIGKILLed mid-trial) give the local sweep’s results, each trial once', {
  skip: skip ?? false,
}, async () => {
  const dir = tempDir();
  const file = sweepFile(dir);
  const local = mtl(['sweep', file, ...LONGER, '-j', '2', '--runs-dir', join(dir, 'local'), '--json']);
  assert.equal(local.code, 0, local.stderr);
  const ref = JSON.parse(local.stdout) as SweepSummary;

  const runsDir = join(dir, 'queued');
  const q = 'two-workers';
  const enq = mtl(['sweep', file, ...LONGER, '--queue', redis.url, '--queue-name', q, '--runs-dir', runsDir, '--json']);
  assert.equal(enq.code, 0, enq.stderr);
  const queued = JSON.parse(enq.stdout) as SweepSummary;
  assert.equal(queued.status, 'queued');
  const listed = JSON.parse(mtl(['runs', 'ls', '--runs-dir', runsDir, '--json']).stdout) as Array<{
    id: string;
    status: string;
  }>;
  assert.equal(listed.find((x) => x.id === queued.runId)?.status, 'queued', 'mtl runs lists it queued');
  assert.deepEqual([...new Set(queued.trials.map((t) => t.status))], ['queued']);
  assert.deepEqual(
    queued.trials.map((t) => t.trialId),
    ref.trials.map((t) => t.trialId),
  );

  const a = worker(redis.url, q, runsDir);
  const running = await waitFor('worker A to take a trial', () => /running (\S+)/.exec(a.output())?.[1]);
  const b = worker(redis.url, q, runsDir);
  // Killed once its first epoch's checkpoint is in place: the run folder is resumable, so the retry
  // must take the `mtl resume` path (asserted below).
  await waitFor('worker A’s trial to checkpoint an epoch', () =>
    existsSync(join(runsDir, running, 'checkpoints', 'last', 'resume.json')),
  );
  a.kill('SIGKILL');
  await exited(a);
  const wait = mtl(['sweep', 'wait', queued.runId, '--runs-dir', runsDir, '--json', '--timeout', '300']);
  b.kill('SIGTERM');
  await exited(b);
  assert.equal(wait.code, 0, wait.stderr + b.output());
  const s = JSON.parse(wait.stdout) as SweepSummary;
  assert.equal(s.status, 'completed');
  const events = readJsonl(join(s.runDir, 'events.jsonl'));
  for (const [i, t] of s.trials.entries()) {
    const r = ref.trials[i]!;
    assert.equal(t.status, r.status);
    assert.equal(events.filter((e) => e.event === 'end' && e.trialId === t.trialId).length, 1);
    if (t.status === 'failed') {
      assert.match(t.error ?? '', /IDX dataset directory not found/);
      assert.equal(events.filter((e) => e.event === 'start' && e.trialId === t.trialId).length, 1, 'not retried');
      continue;
    }
    assert.deepEqual([t.val, t.test], [r.val, r.test], `trial ${t.trialId} equals the local one`);
    assert.deepEqual(metricsWithoutTime(t.runDir!), metricsWithoutTime(r.runDir!));
  }
  const taken = s.trials.find((t) =>
    events.some((e) => e.event === 'start' && e.trialId === t.trialId && e.runId === running),
  )!;
  const starts = events.filter((e) => e.event === 'start' && e.trialId === taken.trialId);
  assert.equal(starts.length, 2, 'the killed trial was retried once');
  assert.equal(starts[1]!.resumed, true, 'the retry resumed the killed run through mtl resume');
  assert.equal(taken.runId, running, 'the other worker finished the killed worker’s run folder');
  assert.match(b.output(), new RegExp(`trial ${taken.trialId} attempt 2: resuming ${running}`));
  const resumed = runRecord(runsDir, running);
  assert.equal(resumed.status, 'completed');
  assert.deepEqual(
    s.points.map((p) => p.val),
    ref.points.map((p) => p.val),
  );
});

test('a duplicate enqueue collapses into the existing jobs (job id = sweep + trial id)', {
  skip: skip ?? false,
}, async () => {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue('dup', { connection });
  try {
    const task = (trialId: string) =>
      ({
        sweepId: 'sw-1',
        trialId,
        params: {},
        seed: 1,
        config: {},
        metric: 'val.accuracy',
        earlyTerminate: null,
      }) as never;
    assert.equal(await enqueueTrials(queue, [task('a'), task('b')], 3), 2);
    assert.equal(await enqueueTrials(queue, [task('a'), task('b'), task('c')], 3), 1);
    assert.equal((await queue.getJobCounts('waiting')).waiting, 3);
    assert.equal((await queue.getJob('sw-1.a'))?.opts.attempts, 3);
  } finally {
    await queue.close();
    await connection.quit();
  }
});

test('an unreachable Redis: sweep --queue and worker exit 5 naming it, and no sweep folder is left', () => {
  const runsDir = tempDir();
  const url = 'redis://127.0.0.1:1/0'; // nothing listens on port 1
  const args = ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.003'];
  const enq = mtl([...args, '--queue', url, '--runs-dir', runsDir]);
  assert.equal(enq.code, 5, enq.stderr);
  assert.match(enq.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: connect ECONNREFUSED/);
  assert.doesNotMatch(enq.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(readdirSync(runsDir), [], 'no sweep folder was created');
  const bad = mtl([...args, '--queue', 'http://127.0.0.1:6379', '--runs-dir', runsDir]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.deepEqual(readdirSync(runsDir), []);
  const w = mtl(['worker', '--queue', url, '--runs-dir', runsDir]);
  assert.equal(w.code, 5, w.stderr);
  assert.match(w.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0/);
});

test('Redis down: a worker told to stop exits, logging the outage once; status shows the folder’s record', {
  skip: skip ?? false,
}, async () => {
  const own = await startRedis();
  const runsDir = tempDir();
  const args = ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.003', ...SMALL];
  const enq = mtl([...args, '--queue', own.url, '--queue-name', 'outage', '--runs-dir', runsDir, '--json']);
  assert.equal(enq.code, 0, enq.stderr);
  const sweepId = (JSON.parse(enq.stdout) as SweepSummary).runId;
  const w = worker(own.url, 'other-queue', runsDir);
  try {
    await waitFor('the worker to start', () => /worker \d+ on /.test(w.output()));
    await own.stop();
    const status = mtl(['sweep', 'status', sweepId, '--runs-dir', runsDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stderr, /cannot reach Redis at .*: connect ECONNREFUSED/);
    assert.match(status.stderr, /showing the state the sweep folder recorded at/);
    const recorded = JSON.parse(status.stdout) as SweepSummary;
    assert.deepEqual([recorded.runId, recorded.status, recorded.trials.length], [sweepId, 'queued', 2]);
    await waitFor('it to notice', () => /redis connection lost/.test(w.output()));
    await new Promise((r) => setTimeout(r, 3000)); // BullMQ's connections retry several times a second
    w.kill('SIGTERM');
    const code = await Promise.race([exited(w), new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    assert.equal(code, 130, w.output());
    assert.equal(w.output().match(/queue error: connect ECONNREFUSED/g)?.length, 1, w.output());
  } finally {
    w.kill('SIGKILL');
  }
});

test('Redis restarted mid-sweep: the worker goes on and the sweep completes', { skip: skip ?? false }, async () => {
  const runsDir = tempDir();
  const q = 'restart';
  const args = ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.003', ...SMALL];
  const enq = mtl([...args, '--queue', redis.url, '--queue-name', q, '--runs-dir', runsDir, '--json']);
  assert.equal(enq.code, 0, enq.stderr);
  const sweepId = (JSON.parse(enq.stdout) as SweepSummary).runId;
  const w = worker(redis.url, q, runsDir, 10);
  const running = await waitFor('a trial to start', () => /running (\S+)/.exec(w.output())?.[1]);
  await waitFor('it to be training', () => existsSync(join(runsDir, running, 'run.json')));
  await redis.restart(1000);
  const wait = mtl(['sweep', 'wait', sweepId, '--runs-dir', runsDir, '--json', '--timeout', '300']);
  w.kill('SIGTERM');
  assert.equal(await exited(w), 130);
  assert.equal(wait.code, 0, wait.stderr + w.output());
  const s = JSON.parse(wait.stdout) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed'],
  );
  assert.match(w.output(), /redis connection lost/);
  assert.match(w.output(), /redis connection back/);
});

test('SIGTERM hands a trial back; after Redis lost its data, resume re-enqueues only what is missing, the stopped trial going on from its run folder', {
  skip: skip ?? false,
}, async () => {
  const runsDir = tempDir();
  const q = 'lost';
  // 60 epochs: the second trial is still training once it has saved one.
  const args = [
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'trainer.optimizer.lr=0.001,0.003',
    '--epochs',
    '60',
    '--limit',
    '3000',
  ];
  const enq = mtl([...args, '--queue', redis.url, '--queue-name', q, '--runs-dir', runsDir, '--json']);
  const queued = JSON.parse(enq.stdout) as SweepSummary;
  const [first, second] = queued.trials;
  const w = worker(redis.url, q, runsDir);
  const secondRun = await waitFor('the second trial to have saved an epoch', () => {
    const m = new RegExp(`trial ${second!.trialId} attempt 1: running (\\S+)`).exec(w.output());
    return m?.[1] && existsSync(join(runsDir, m[1], 'checkpoints', 'last', 'model.json')) ? m[1] : undefined;
  });
  w.kill('SIGTERM');
  assert.equal(await exited(w), 130);
  const status = JSON.parse(
    mtl(['sweep', 'status', queued.runId, '--runs-dir', runsDir, '--json']).stdout,
  ) as SweepSummary;
  assert.deepEqual(
    status.trials.map((t) => t.status),
    ['completed', 'queued'],
    'the stopped trial is back on the queue',
  );
  assert.equal(runRecord(runsDir, secondRun).status, 'interrupted');

  const flush = new Redis(redis.url);
  await flush.flushall();
  await flush.quit();
  const resumed = mtl(['sweep', 'resume', queued.runId, '--runs-dir', runsDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /1 trials had ended; re-enqueued 1 missing/);
  const w2 = worker(redis.url, q, runsDir);
  const wait = mtl(['sweep', 'wait', queued.runId, '--runs-dir', runsDir, '--json', '--timeout', '300']);
  w2.kill('SIGTERM');
  await exited(w2);
  assert.equal(wait.code, 0, wait.stderr);
  const s = JSON.parse(wait.stdout) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed'],
  );
  const events = readJsonl(join(s.runDir, 'events.jsonl'));
  assert.equal(
    events.filter((e) => e.event === 'start' && e.trialId === first!.trialId).length,
    1,
    'no finished trial ran again',
  );
  assert.equal(events.filter((e) => e.event === 'end').length, 2);
  // The job was gone with Redis's data, yet the shared runs dir still had the trial's folder.
  assert.equal(s.trials[1]!.runId, secondRun);
  const record = runRecord(runsDir, secondRun);
  assert.equal(record.status, 'completed');
  assert.ok((record.resumes?.[0]?.fromEpoch ?? 0) >= 1, 'went on from a saved epoch');
});
