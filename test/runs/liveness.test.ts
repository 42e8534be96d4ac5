// Crashed runs are seen: a `running` run whose process is gone on this host, or whose heartbeat from
// another host is stale, is `crashed`; a live process, or a fresh heartbeat, is still `running`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { isProcessAlive, runLiveness, STALE_AFTER_MS, thisProcess } from '../../src/runs/liveness.ts';
import { sampleRecord } from './helpers.ts';

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('this process is alive; an exited one is not; a reused pid (other start token) is not', () => {
  const me = thisProcess();
  assert.equal(isProcessAlive(me.pid, me.pidStart), true);
  assert.equal(isProcessAlive(deadPid()), false);
  if (me.pidStart) assert.equal(isProcessAlive(me.pid, `${me.pidStart}0`), false);
});

test('running on this host: alive → running, process gone → crashed with the reason', () => {
  const me = thisProcess();
  assert.deepEqual(runLiveness(sampleRecord({ ...me })), { status: 'running' });
  const pid = deadPid();
  const live = runLiveness(sampleRecord({ pid, host: hostname() }));
  assert.equal(live.status, 'crashed');
  assert.match(live.reason ?? '', new RegExp(`process ${pid} on this host is gone`));
});

test('running on another host: judged by the heartbeat', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const at = (ms: number) => new Date(now - ms).toISOString();
  const other = { pid: 1, host: 'some-other-host' };
  assert.equal(runLiveness(sampleRecord({ ...other, heartbeatAt: at(60_000) }), now).status, 'running');
  const stale = runLiveness(sampleRecord({ ...other, heartbeatAt: at(STALE_AFTER_MS + 60_000) }), now);
  assert.equal(stale.status, 'crashed');
  assert.match(stale.reason ?? '', /no heartbeat from some-other-host for 6 min/);
});

test('finished runs, and records without a process (older mtl), keep their status', () => {
  assert.equal(
    runLiveness(sampleRecord({ status: 'completed', pid: deadPid(), host: hostname() })).status,
    'completed',
  );
  assert.equal(runLiveness(sampleRecord({ status: 'running' })).status, 'running');
});
