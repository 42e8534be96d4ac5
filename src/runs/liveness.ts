// Whether a `running` run is really running. run.json names its process (pid, host and, on Linux, a
// start token that survives pid reuse) and carries a heartbeat: on this host a run whose process is
// gone is `crashed`; on another host, one whose heartbeat is older than STALE_AFTER_MS.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RunRecord, RunStatus } from './run-record.ts';

/** How often a training process refreshes heartbeatAt (besides every epoch end). */
export const HEARTBEAT_EVERY_MS = 30_000;
/** Ten missed heartbeats: a run on another host is taken for crashed after this long. */
export const STALE_AFTER_MS = 10 * HEARTBEAT_EVERY_MS;

export type EffectiveStatus = RunStatus | 'crashed';

export interface ProcessIdentity {
  pid: number;
  host: string;
  pidStart?: string;
}

/** This process, as run.json records it. */
export function thisProcess(): ProcessIdentity {
  const token = processStartToken(process.pid);
  return { pid: process.pid, host: hostname(), ...(token ? { pidStart: token } : {}) };
}

/** Linux: `<boot id>:<start time in clock ticks>` of `pid`, or null (no /proc, or no such process). */
export function processStartToken(pid: number): string | null {
  const stat = procStat(pid);
  if (!stat) return null;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}:${stat.startTime}`;
  } catch {
    return null;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): { state: string; startTime: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // proc(5): field 3 is the state, field 22 the start time; `fields` starts at field 3.
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return null;
  }
}

/** Whether `pid` is alive on this host and, when a start token was recorded, is still that process. */
export function isProcessAlive(pid: number, pidStart?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat?.state === 'Z') return false; // killed, not yet reaped by its parent
  if (pidStart && stat) return processStartToken(pid) === pidStart;
  return true;
}

export interface Liveness {
  status: EffectiveStatus;
  /** Why a `running` record is taken for crashed. */
  reason?: string;
}

/** The status to show for a run: `crashed` for a `running` run whose process is gone. */
export function runLiveness(record: RunRecord, now = Date.now()): Liveness {
  if (record.status !== 'running' || record.pid === undefined) return { status: record.status };
  if (record.host === hostname()) {
    if (isProcessAlive(record.pid, record.pidStart)) return { status: 'running' };
    return { status: 'crashed', reason: `its process ${record.pid} on this host is gone` };
  }
  const beat = Date.parse(record.heartbeatAt ?? record.startedAt);
  if (Number.isNaN(beat) || now - beat <= STALE_AFTER_MS) return { status: 'running' };
  const minutes = Math.round((now - beat) / 60_000);
  return { status: 'crashed', reason: `no heartbeat from ${record.host} for ${minutes} min` };
}
