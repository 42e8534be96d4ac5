// The one run-folder lifecycle of every kind of run (docs/design.md, "Run folder"): create the folder
// (exclusive mkdir) → run.json `running` (+ config.yaml) → the body → summary.json → run.json with
// how it ended; `failed` with the error's message when the body throws. A resumed run (`mtl resume`)
// reopens its folder instead of creating one; while the body runs, run.json names this process and
// carries a heartbeat, so `mtl runs` can tell a crashed run from a running one.
import { join } from 'node:path';
import { stringifyConfig } from '../config/print.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { InputError, StorageError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../runs/atomic.ts';
import { HEARTBEAT_EVERY_MS, thisProcess } from '../runs/liveness.ts';
import { createRunDir } from '../runs/run-dir.ts';
import { type RunKind, type RunRecord, type RunStatus, updateRunRecord, writeRunRecord } from '../runs/run-record.ts';

export interface RunIdentity {
  id: string;
  dir: string;
  kind: RunKind;
  /** performance.now() when the run started (for timing.totalSeconds). */
  started: number;
  /** Set when this is `mtl resume` continuing the run in its existing folder. */
  resume: ResumeTarget | null;
}

/** A run folder to continue in, as `mtl resume` found it. */
export interface ResumeTarget {
  id: string;
  dir: string;
  /** run.json as it was before this resume: written back when the resume is refused. */
  record: RunRecord;
  /** Resume even though the config, data or environment changed (recorded as resumeExact: false). */
  force: boolean;
  /** What changed, when `force` resumes anyway (filled in as the checks find it). */
  changed: string[];
}

/** The resume was refused before anything changed in the run (exit 3): run.json is put back as it was. */
export class ResumeRefusedError extends InputError {}

/** What run.json holds beyond the lifecycle fields this module fills in. */
export type RunRecordFields = Omit<RunRecord, 'id' | 'name' | 'status' | 'startedAt' | 'endedAt' | 'childRunIds'> &
  Partial<Pick<RunRecord, 'childRunIds'>>;

export interface RunFolderOptions {
  runsDir: string;
  name: string;
  /** Exactly this run id (a sweep's trial); an existing folder is an error. Default: a new id. */
  id?: string;
  record: RunRecordFields;
  /** Written as config.yaml when given (a transfer writes its own once the source is known). */
  config?: ResolvedConfig;
  /** Called once the folder exists, so the CLI can say where it is. */
  onCreated?: (id: string, dir: string) => void;
  /** Continue in this existing run folder instead of creating one. */
  resume?: ResumeTarget;
}

/** Runs `body` in a new (or, resuming, the existing) run folder and records how it ended. */
export async function runInRunFolder<S extends { status: RunStatus }>(
  o: RunFolderOptions,
  body: (run: RunIdentity) => Promise<S>,
): Promise<S> {
  const started = performance.now();
  const { id, dir } = o.resume ? await reopenRunFolder(o.resume) : await createRunFolder(o);
  o.onCreated?.(id, dir);
  const heartbeat = setInterval(() => void touchHeartbeat(dir).catch(() => undefined), HEARTBEAT_EVERY_MS);
  heartbeat.unref();
  try {
    const summary = await body({ id, dir, kind: o.record.kind, started, resume: o.resume ?? null });
    clearInterval(heartbeat);
    await writeJsonAtomic(join(dir, 'summary.json'), summary);
    await updateRunRecord(dir, { status: summary.status, endedAt: new Date().toISOString() });
    return summary;
  } catch (err) {
    clearInterval(heartbeat);
    if (err instanceof ResumeRefusedError && o.resume) await writeRunRecord(dir, o.resume.record);
    else await markFailed(dir, err as Error);
    if (err instanceof StorageError) {
      err.message += `\nEarlier checkpoints are intact: make room (or fix the permissions), then \`mtl resume ${id}\`.`;
    }
    throw err;
  }
}

async function createRunFolder(o: RunFolderOptions): Promise<{ id: string; dir: string }> {
  const { id, dir } = await createRunDir(o.runsDir, o.name, { id: o.id });
  // Keys in the order a person reads run.json: who, what, state, when, then the rest.
  const { kind, argv, ...rest } = o.record;
  const now = new Date().toISOString();
  await writeRunRecord(dir, {
    id,
    name: o.name,
    kind,
    status: 'running',
    argv,
    startedAt: now,
    endedAt: null,
    ...rest,
    childRunIds: rest.childRunIds ?? [],
    ...thisProcess(),
    heartbeatAt: now,
  });
  if (o.config) await writeFileAtomic(join(dir, 'config.yaml'), stringifyConfig(o.config));
  return { id, dir };
}

/** run.json says `running` again, owned by this process; the resume itself is listed once the body knows the epoch. */
async function reopenRunFolder(t: ResumeTarget): Promise<{ id: string; dir: string }> {
  const { error: _error, errorType: _type, ...record } = t.record;
  await writeRunRecord(t.dir, {
    ...record,
    status: 'running',
    endedAt: null,
    ...thisProcess(),
    heartbeatAt: new Date().toISOString(),
  });
  return { id: t.id, dir: t.dir };
}

/** Lists a resume in run.json: when, from which completed epoch, and what `--force` let through. */
export async function recordResume(t: ResumeTarget, fromEpoch: number): Promise<void> {
  const entry = { at: new Date().toISOString(), fromEpoch, ...(t.changed.length ? { changed: t.changed } : {}) };
  await updateRunRecord(t.dir, {
    resumes: [...(t.record.resumes ?? []), entry],
    ...(t.changed.length || t.record.resumeExact === false ? { resumeExact: false } : {}),
  });
}

/** Refreshes run.json's heartbeat (every epoch end, and on a timer while the run trains). */
export function touchHeartbeat(dir: string): Promise<RunRecord> {
  return updateRunRecord(dir, { heartbeatAt: new Date().toISOString() });
}

/**
 * `failed` with the error's message. When run.json cannot be written either (the disk is full),
 * the error says so; the record still says `running` with a dead process, so `mtl runs` shows it
 * crashed and `mtl resume` can continue it once there is space.
 */
async function markFailed(dir: string, err: Error): Promise<void> {
  try {
    const endedAt = new Date().toISOString();
    await updateRunRecord(dir, { status: 'failed', endedAt, error: err.message, errorType: err.name });
  } catch (second) {
    err.message += `\n(the run could not be marked failed either: ${(second as Error).message})`;
  }
}
