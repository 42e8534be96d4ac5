// Opening a run for `mtl resume`: it must not be running; a lock file keeps two resumes of one run
// apart; its checkpoint folders are put right after a crash (an aside folder restored, temp folders
// removed) before anything reads them.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { recoverCheckpointDir } from '../models/checkpoint.ts';
import { isProcessAlive, runLiveness, thisProcess } from '../runs/liveness.ts';
import type { ResolvedRun } from '../runs/resolve.ts';
import type { ResumeTarget } from '../train/run-folder.ts';

const LOCK_FILE = '.resume.lock';

/** The run as a resume target; InputError when it is running or another process is resuming it. */
export function openResumeTarget(run: ResolvedRun, force: boolean): ResumeTarget {
  const live = runLiveness(run.record);
  if (live.status === 'running') {
    const where = run.record.pid ? ` (process ${run.record.pid} on ${run.record.host})` : '';
    throw new InputError(`run ${run.id} is still running${where}: stop it first (Ctrl-C), then resume it`);
  }
  lockRun(run.dir, run.id);
  for (const name of ['last', 'best']) recoverCheckpointDir(join(run.dir, 'checkpoints', name));
  return { id: run.id, dir: run.dir, record: run.record, force, changed: [] };
}

/** Takes `<run>/.resume.lock` for this process (released when it exits); a dead holder's lock is taken over. */
function lockRun(dir: string, id: string): void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(thisProcess()));
      closeSync(fd);
      process.once('exit', () => unlockRun(path));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    if (holder && holder.host !== hostname()) {
      throw new InputError(`run ${id} is being resumed on ${holder.host} (delete ${path} if it is not)`);
    }
    if (holder && isProcessAlive(holder.pid, holder.pidStart)) {
      throw new InputError(`run ${id} is being resumed by process ${holder.pid}; wait for it to finish`);
    }
    unlinkSync(path); // the holder died: its lock is stale
  }
  throw new InputError(`run ${id}: could not take ${path}`);
}

function readHolder(path: string): { pid: number; host: string; pidStart?: string } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function unlockRun(path: string): void {
  const holder = readHolder(path);
  if (holder?.pid === process.pid) unlinkSync(path);
}
