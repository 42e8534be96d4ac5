// Local sweeps through the real CLI on small data: a grid × seeds with -j 2 (each trial equal to its
// standalone `mtl train`, bit for bit), a data error that fails one trial without retries, and a
// coordinator SIGKILLed mid-sweep then `mtl sweep resume` (no finished trial runs again).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { TRIAL_END } from '../../src/sweep/host-serve.ts';
import type { SweepSummary } from '../../src/sweep/types.ts';
import {
  assertWentOnInPlace,
  exited,
  metricsWithoutTime,
  mtl,
  ROOT,
  readJsonl,
  runRecord,
  spawnMtl,
  tempDir,
  waitFor,
} from './helpers.ts';

const SMALL = ['--epochs', '2', '--limit', '500'];
/** Trials that train for a second or more (20 epochs of 3,000 rows): a trial seen training is still
 *  training when a kill sent then lands (SMALL's take a few hundred ms, most of it testing). */
const STOPPABLE = ['--epochs', '20', '--limit', '3000'];

test('a grid × seeds runs -j 2 as child processes; each trial equals its standalone mtl train', () => {
  const runsDir = tempDir();
  const args = ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.003', '--seeds', '2'];
  const r = mtl([...args, ...SMALL, '-j', '2', '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.deepEqual(
    Object.keys(s).filter((k) =>
      ['runId', 'runDir', 'kind', 'status', 'metric', 'trials', 'points', 'best', 'timing'].includes(k),
    ).length,
    9,
  );
  assert.equal(s.kind, 'sweep');
  assert.equal(s.status, 'completed');
  assert.equal(s.metric, 'val.accuracy');
  assert.equal(s.trials.length, 4);
  for (const t of s.trials) {
    assert.equal(t.status, 'completed');
    assert.deepEqual(Object.keys(t).slice(0, 8), [
      'trialId',
      'params',
      'seed',
      'runId',
      'status',
      'val',
      'test',
      'epochs',
    ]);
    const run = runRecord(runsDir, t.runId);
    assert.equal(run.parentRunId, s.runId);
    assert.equal(run.configHash, t.trialId); // the trial id is the hash of the resolved config
    assert.equal(t.epochs, 2);
  }
  assert.deepEqual(
    s.points.map((p) => [p.params, p.seeds]),
    [
      [{ 'trainer.optimizer.lr': 0.001 }, [42, 43]],
      [{ 'trainer.optimizer.lr': 0.003 }, [42, 43]],
    ],
  );
  // Points: mean ± std of the two seeds' val accuracy, checked against the trials themselves.
  for (const p of s.points) {
    const vals = s.trials.filter((t) => p.trialIds.includes(t.trialId)).map((t) => t.val!.accuracy!);
    const mean = (vals[0]! + vals[1]!) / 2;
    assert.ok(Math.abs(p.val!.accuracy!.mean - mean) < 1e-12);
    assert.ok(Math.abs(p.val!.accuracy!.std - Math.abs(vals[0]! - vals[1]!) / Math.SQRT2) < 1e-12);
  }
  const best = s.points.reduce((a, b) => (b.val!.accuracy!.mean > a.val!.accuracy!.mean ? b : a));
  assert.deepEqual(s.best?.params, best.params);
  // The folder: sweep.yaml, plan.jsonl (every trial), events (4 starts, 4 ends, 2 trials overlapping).
  for (const f of ['run.json', 'sweep.yaml', 'plan.jsonl', 'events.jsonl', 'summary.json']) {
    assert.ok(existsSync(join(s.runDir, f)), f);
  }
  assert.equal(readJsonl(join(s.runDir, 'plan.jsonl')).length, 4);
  const events = readJsonl(join(s.runDir, 'events.jsonl'));
  const kinds = events.map((e) => e.event).filter((e) => e === 'start' || e === 'end');
  assert.deepEqual(kinds.slice(0, 2), ['start', 'start'], `-j 2 starts two trials at once: ${kinds}`);
  assert.equal(kinds.filter((k) => k === 'end').length, 4);
  assert.equal(runRecord(s.runDir).kind, 'sweep');
  // Where a trial's time went: the whole, the part outside its run, the data (reported, not judged).
  const o = s.timing.perTrial!;
  assert.equal(o.trials, 4);
  assert.ok(o.startSeconds.min >= 0 && o.startSeconds.max < o.seconds.max, JSON.stringify(o));
  assert.ok(o.dataSeconds && o.dataSeconds.min > 0, JSON.stringify(o));
  assert.match(r.stderr, /per trial \(median \/ max\): [\d.]+ \/ [\d.]+ s; outside its run /);

  // Each lane hands its trials to one trial host: four trials ran in two processes (run.json pid).
  const owner = (t: { runId: string | null }) => runRecord(runsDir, t.runId);
  const pids = s.trials.map((t) => owner(t).pid as number);
  assert.equal(new Set(pids).size, 2, `two trial hosts, pids ${pids}`);
  const trial = s.trials.find((t) => t.seed === 43 && t.params['trainer.optimizer.lr'] === 0.003)!;
  // The trial checked against its standalone run below ran second in its host, after another trial.
  const before = s.trials.filter((t) => t !== trial && owner(t).pid === owner(trial).pid);
  assert.equal(before.length, 1);
  assert.ok(owner(before[0]!).startedAt < owner(trial).startedAt);
  const alone = mtl([
    'train',
    'configs/mnist-mlp.yaml',
    '--set',
    'trainer.optimizer.lr=0.003',
    '--seed',
    '43',
    ...SMALL,
    '--runs-dir',
    tempDir(),
    '--json',
  ]);
  assert.equal(alone.code, 0, alone.stderr);
  const a = JSON.parse(alone.stdout);
  assert.deepEqual([trial.val, trial.test], [a.val, a.test]);
  assert.deepEqual(metricsWithoutTime(trial.runDir!), metricsWithoutTime(a.runDir));
  for (const which of ['best', 'last']) {
    const w = (dir: string) => readFileSync(join(dir, 'checkpoints', which, 'weights.bin'));
    assert.ok(w(trial.runDir!).equals(w(a.runDir)), `checkpoints/${which}/weights.bin identical`);
  }
  assert.equal(runRecord(a.runDir).configHash, trial.trialId);
});

test('a data error fails its trial once (not retried) and the sweep still completes', () => {
  const runsDir = tempDir();
  const r = mtl([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'data.dataset=mnist,idx:/nonexistent-mtl-data',
    '--attempts',
    '3',
    '-j',
    '2',
    ...SMALL,
    '--runs-dir',
    runsDir,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.equal(s.status, 'completed');
  const [ok, bad] = s.trials;
  assert.equal(ok?.status, 'completed');
  assert.equal(bad?.status, 'failed');
  assert.match(bad?.error ?? '', /IDX dataset directory not found/);
  const starts = readJsonl(join(s.runDir, 'events.jsonl')).filter(
    (e) => e.event === 'start' && e.trialId === bad?.trialId,
  );
  assert.equal(starts.length, 1, 'exit 3 is not retried');
  assert.match(r.stderr, /failed: .*IDX dataset directory not found/);
});

test("a point the config schema refuses fails alone, its trial line giving the reason and the base config's seed", () => {
  const runsDir = tempDir();
  const r = mtl([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'trainer.batchSize=0,64',
    ...SMALL,
    '--runs-dir',
    runsDir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // The config error's detail is on its second line: the trial's line carries it too.
  assert.match(
    r.stderr,
    /batchSize=0 seed 42: failed: invalid config .*trainer\.batchSize: expected an integer from 1/,
  );
  assert.match(r.stderr, /1 completed, 0 pruned, 1 failed/);
  // Its trials are newer than the sweep, yet `latest` in `mtl sweep …` means the newest sweep.
  const status = mtl(['sweep', 'status', 'latest', '--runs-dir', runsDir, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as SweepSummary;
  assert.equal(s.kind, 'sweep');
  assert.equal(s.trials.length, 2);
});

test('a trial host SIGKILLed mid-trial: the trial resumes in a new process, the next trial gets a new host', async () => {
  const runsDir = tempDir();
  const coordinator = spawnMtl([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'trainer.optimizer.lr=0.001,0.002',
    ...STOPPABLE,
    '--attempts',
    '2',
    '--runs-dir',
    runsDir,
  ]);
  const sweepId = await waitFor('the sweep folder', () => /sweep (\S+) {2}→/.exec(coordinator.output())?.[1]);
  const events = join(runsDir, sweepId, 'events.jsonl');
  const first = await waitFor('the first trial to checkpoint an epoch', () => {
    const start = readJsonl(events).find((e) => e.event === 'start');
    return start && existsSync(join(String(start.runDir), 'checkpoints', 'last', 'resume.json')) && start;
  });
  const hostPid = runRecord(String(first.runDir)).pid as number;
  process.kill(hostPid, 'SIGKILL');
  assert.equal(await exited(coordinator), 0, coordinator.output());
  const s = JSON.parse(readFileSync(join(runsDir, sweepId, 'summary.json'), 'utf8')) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed'],
  );
  const log = readJsonl(events);
  assert.equal(log.filter((e) => e.event === 'retry' && e.trialId === first.trialId).length, 1);
  const retry = log.find((e) => e.event === 'start' && e.trialId === first.trialId && e.attempt === 2)!;
  assert.equal(retry.resumed, true, 'the retry resumed the killed run');
  assert.equal(retry.runId, first.runId);
  const pidOf = (runId: string | null) => runRecord(runsDir, runId).pid;
  const [a, b] = s.trials;
  assert.equal(a!.runId, first.runId);
  assert.notEqual(pidOf(a!.runId), hostPid, 'the resumed attempt ran in a process of its own');
  assert.notEqual(pidOf(b!.runId), hostPid, 'the next trial got a new host');
  assert.notEqual(pidOf(b!.runId), pidOf(a!.runId));
});

test('a coordinator SIGKILLed mid-sweep: resume runs only what had not finished, the trial cut off going on from its last epoch', async () => {
  const runsDir = tempDir();
  const coordinator = spawnMtl([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'trainer.optimizer.lr=0.001,0.002,0.003',
    ...STOPPABLE,
    '--runs-dir',
    runsDir,
  ]);
  const sweepId = await waitFor('the sweep folder', () => /sweep (\S+) {2}→/.exec(coordinator.output())?.[1]);
  const events = join(runsDir, sweepId, 'events.jsonl');
  // Killed mid-trial: once the second trial has saved an epoch.
  await waitFor('a second trial to have saved an epoch', () => {
    const starts = readJsonl(events).filter((e) => e.event === 'start');
    return starts.length >= 2 && existsSync(join(String(starts[1]!.runDir), 'checkpoints', 'last', 'model.json'));
  });
  coordinator.kill('SIGKILL');
  await exited(coordinator);
  const before = readJsonl(events);
  const endedBefore = before.filter((e) => e.event === 'end').map((e) => e.trialId);
  const orphan = before.filter((e) => e.event === 'start').at(-1)!;
  assert.equal(endedBefore.length, 1);
  // The dead coordinator's sweep is listed crashed, with the command that goes on.
  const listed = JSON.parse(mtl(['runs', 'ls', '--runs-dir', runsDir, '--json']).stdout) as Array<{
    id: string;
    status: string;
    resumeCommand?: string;
  }>;
  const sweepRow = listed.find((x) => x.id === sweepId)!;
  assert.equal(sweepRow.status, 'crashed');
  assert.equal(sweepRow.resumeCommand, `mtl sweep resume ${sweepId}`);

  const r = mtl(['sweep', 'resume', sweepId, '-j', '2', '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.equal(s.status, 'completed');
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed', 'completed'],
  );
  const after = readJsonl(events);
  for (const t of s.trials) {
    assert.equal(
      after.filter((e) => e.event === 'end' && e.trialId === t.trialId).length,
      1,
      `${t.trialId} ended once`,
    );
  }
  const startsOfFinished = after.filter((e) => e.event === 'start' && e.trialId === endedBefore[0]);
  assert.equal(startsOfFinished.length, 1, 'the trial that had finished did not run again');
  // The trial running at the kill died with its coordinator (no orphan finished it later): the resumed
  // sweep went on in its run folder from the epoch it had saved, and that run finished.
  assertWentOnInPlace(events, orphan);
  const relisted = JSON.parse(mtl(['runs', 'ls', '--runs-dir', runsDir, '--json']).stdout) as Array<{
    id: string;
    status: string;
  }>;
  assert.equal(relisted.find((x) => x.id === sweepId)!.status, 'completed');
});

test('Ctrl-C, then the command the sweep ends with: the interrupted trial goes on from its last epoch', async () => {
  const runsDir = tempDir();
  const args = ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.002'];
  const coordinator = spawnMtl([...args, '--epochs', '60', '--limit', '2000', '--runs-dir', runsDir]);
  const sweepId = await waitFor('the sweep folder', () => /sweep (\S+) {2}→/.exec(coordinator.output())?.[1]);
  const events = join(runsDir, sweepId, 'events.jsonl');
  const first = await waitFor('the first trial to have saved an epoch', () => {
    const start = readJsonl(events).find((e) => e.event === 'start');
    return start && existsSync(join(String(start.runDir), 'checkpoints', 'last', 'model.json')) && start;
  });
  coordinator.kill('SIGINT');
  assert.equal(await exited(coordinator), 130);
  const hint = /continue it with: (mtl sweep resume (\S+))/.exec(coordinator.output());
  assert.ok(hint, `no resume command in:\n${coordinator.output()}`);
  assert.equal(hint[2], join(runsDir, sweepId), 'outside the default runs folder it names the path');
  assert.equal(runRecord(String(first.runDir)).status, 'interrupted');

  // The printed command, as printed (no --runs-dir): the trials go on beside the sweep.
  const r = mtl([...hint[1]!.split(' ').slice(1), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed'],
  );
  assertWentOnInPlace(events, first);
  assert.equal(s.trials[0]?.epochs, 60);
  assert.deepEqual(
    s.trials.map((t) => dirname(String(t.runDir))),
    [runsDir, runsDir],
    'every trial beside the sweep',
  );
});

test('ASHA stops a weak trial inside its trial host, and the host goes on with the next trial', async () => {
  const runsDir = tempDir();
  const file = join(tempDir('mtl-sweep-file-'), 'asha.yaml');
  writeFileSync(
    file,
    [
      'sweep:',
      `  base: ${join(ROOT, 'configs', 'mnist-mlp.yaml')}`,
      '  method: grid',
      '  metric: val.accuracy',
      '  parameters:',
      '    trainer.optimizer.lr: [0.001, 1.0e-6, 0.003]',
      '  earlyTerminate: { type: asha, minEpochs: 1, eta: 2 }',
      '',
    ].join('\n'),
  );
  const r = mtl(['sweep', file, '--epochs', '6', '--limit', '20000', '-j', '1', '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'pruned', 'completed'],
  );
  const [, weak, next] = s.trials;
  assert.ok(weak!.epochs! < 6, `pruned after ${weak!.epochs} epochs`);
  assert.equal(next!.epochs, 6, 'the stop asked of the weak trial did not carry over to the next one');
  const run = (t: { runId: string | null }) => runRecord(runsDir, t.runId);
  assert.equal(run(weak!).status, 'interrupted');
  assert.equal(new Set(s.trials.map((t) => run(t).pid)).size, 1, 'all three ran in one trial host');
  const prune = readJsonl(join(s.runDir, 'events.jsonl')).find((e) => e.event === 'prune');
  assert.equal(prune?.trialId, weak!.trialId);
});

test('a trial on another backend gets a fresh trial host, not a failed attempt', () => {
  const runsDir = tempDir();
  const r = mtl([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'backend=wasm,cpu',
    '--epochs',
    '1',
    '--limit',
    '500',
    '-j',
    '1',
    '--runs-dir',
    runsDir,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed', 'completed'],
  );
  const events = readJsonl(join(s.runDir, 'events.jsonl'));
  assert.equal(events.filter((e) => e.event === 'retry').length, 0, 'no attempt failed on the backend switch');
  const run = (t: { runId: string | null }) => runRecord(runsDir, t.runId);
  assert.deepEqual(
    s.trials.map((t) => run(t).backend.name),
    ['wasm', 'cpu'],
  );
  assert.notEqual(run(s.trials[0]!).pid, run(s.trials[1]!).pid);
});

/** Seconds since boot when process `pid` started (/proc/<pid>/stat field 22, in clock ticks). */
function processStart(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]) / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
}

/** A wall-clock time (ms since the epoch) as seconds since boot, the clock of processStart. */
function sinceBoot(ms: number): number {
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return uptime - (Date.now() - ms) / 1000;
}

/** Processes whose environment holds `marker` (what an mtl command started, however deep). */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(marker);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

test('trial hosts start before the sweep is planned, and none outlives it: a plan that fails, more lanes than trials', {
  skip: process.platform === 'linux' ? false : 'reads /proc',
}, async () => {
  const runsDir = tempDir();
  const mark = { MTL_TEST_MARK: `hosts-${process.pid}-${Date.now()}` };
  const marker = `MTL_TEST_MARK=${mark.MTL_TEST_MARK}`;
  // Planning fails (an unknown key): the hosts started for it are ended with the command.
  const bad = mtl(
    ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.nope=1,2', '-j', '2', '--runs-dir', runsDir],
    mark,
  );
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /unknown key 'nope'/);
  await waitFor('the failed sweep’s hosts to end', () => processesWith(marker).length === 0, 10_000);

  // Three lanes for one trial: the trial runs in a host that was up before the plan was written.
  const coordinator = spawnMtl(
    [
      'sweep',
      'configs/mnist-mlp.yaml',
      '--param',
      'trainer.optimizer.lr=0.001',
      ...STOPPABLE,
      '-j',
      '3',
      '--runs-dir',
      runsDir,
    ],
    mark,
  );
  const sweepId = await waitFor('the sweep folder', () => /sweep (\S+) {2}→/.exec(coordinator.output())?.[1]);
  const start = await waitFor('the trial to start', () =>
    readJsonl(join(runsDir, sweepId, 'events.jsonl')).find((e) => e.event === 'start'),
  );
  const hostPid = await waitFor('the trial’s run.json', () => {
    try {
      return runRecord(String(start.runDir)).pid;
    } catch {
      return undefined;
    }
  });
  const planned = sinceBoot(statSync(join(runsDir, sweepId, 'plan.jsonl')).mtimeMs);
  assert.ok(
    processStart(hostPid) < planned,
    `the host started ${(processStart(hostPid) - planned).toFixed(2)} s after plan.jsonl was written`,
  );
  assert.equal(await exited(coordinator), 0, coordinator.output());
  const s = JSON.parse(readFileSync(join(runsDir, sweepId, 'summary.json'), 'utf8')) as SweepSummary;
  assert.deepEqual(
    s.trials.map((t) => t.status),
    ['completed'],
  );
  await waitFor('every host to end', () => processesWith(marker).length === 0, 10_000);
});

test('a trial stopped while its host still loads stops at its first step: interrupted (exit 130), 0 epochs, resumable', async () => {
  const runsDir = tempDir();
  const host = spawn(process.execPath, [join(ROOT, 'bin', 'mtl'), 'trial-host'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  host.stdout.on('data', (b) => (out += b));
  host.stderr.on('data', () => {});
  // Both lines arrive while the host loads the training code: the stop is for a trial not begun.
  host.stdin.write(
    `${JSON.stringify({ run: 1, args: ['train', 'configs/mnist-mlp.yaml', ...SMALL, '--runs-dir', runsDir] })}\n`,
  );
  host.stdin.write(`${JSON.stringify({ stop: 1 })}\n`);
  const end = await waitFor('the trial’s end record', () => {
    const at = out.indexOf(`${TRIAL_END}{"end":1`);
    const eol = at < 0 ? -1 : out.indexOf('\n', at);
    return eol > 0 && out.slice(at + 1, eol);
  });
  host.stdin.end();
  assert.equal(JSON.parse(end).code, 130);
  const [runDir] = readdirSync(runsDir).map((d) => join(runsDir, d));
  assert.equal(runRecord(runDir!).status, 'interrupted', 'stopped, not failed');
  const summary = JSON.parse(readFileSync(join(runDir!, 'summary.json'), 'utf8'));
  assert.equal(summary.epochs, 0);
  assert.deepEqual(summary.timing.epochSeconds, { median: 0, min: 0, max: 0 });
  const resumed = mtl(['resume', runDir!]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(runRecord(runDir!).status, 'completed');
});
