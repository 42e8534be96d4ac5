// run.json (docs/design.md "Run folder"): what a run is, how it was started and how it ended; plus the
// config hash that lets two runs be recognised as the same experiment.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendRecord } from '../engine/backend/backend.ts';
import { InputError } from '../errors.ts';
import { writeJsonAtomic } from './atomic.ts';

export const RUN_RECORD_FILE = 'run.json';

export type RunKind = 'pretrain' | 'finetune' | 'multitask' | 'transfer' | 'sweep';
export type RunStatus = 'running' | 'completed' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  name: string;
  kind: RunKind;
  status: RunStatus;
  /** The command line, without the node executable and script. */
  argv: string[];
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; null while running. */
  endedAt: string | null;
  seed: number;
  backend: BackendRecord;
  /** Package name → version (tfjs, node, mtl, …). */
  versions: Record<string, string>;
  /** hashConfig of the resolved config. */
  configHash: string;
  /** The run this one was started from (a fine-tune's pretrain run, a transfer's child's parent). */
  parentRunId: string | null;
  childRunIds: string[];
  /** One-paragraph message when status is failed. */
  error?: string;
  /** The error's class when status is failed (e.g. StorageError: `mtl resume` can finish it once there is room). */
  errorType?: string;
  /** The process that owns the run while it is `running` (liveness.ts tells a crashed run by them). */
  pid?: number;
  host?: string;
  /** Linux: `<boot id>:<start time>` of that process, so a reused pid is not taken for it. */
  pidStart?: string;
  /** ISO 8601; refreshed while the run trains (at least every epoch). */
  heartbeatAt?: string;
  /** One entry per `mtl resume`: when, and the last completed epoch it continued from. */
  resumes?: ResumeEntry[];
  /** false once a resume was forced past a changed config, data or environment (`--force`). */
  resumeExact?: boolean;
}

export interface ResumeEntry {
  at: string;
  fromEpoch: number;
  /** What had changed when `--force` resumed anyway (absent for an exact resume). */
  changed?: string[];
}

export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await writeJsonAtomic(join(dir, RUN_RECORD_FILE), record);
}

/** Reads `<dir>/run.json`; InputError naming the file when it is missing or not a run record. */
export async function readRunRecord(dir: string): Promise<RunRecord> {
  const path = join(dir, RUN_RECORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `no run record at '${path}'` : `cannot read '${path}': ${code}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`cannot parse '${path}': ${(err as Error).message}`);
  }
  if (!looksLikeRunRecord(value)) {
    throw new InputError(`'${path}' is not a run record (needs string id, name, status and startedAt)`);
  }
  return value;
}

/** Pending run.json updates per folder: this process's read-modify-writes run one at a time. */
const pending = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write of run.json; only the process that owns the run should call it. Calls are
 * queued per folder, so a heartbeat and a status change in flight together cannot undo each other.
 */
export function updateRunRecord(dir: string, patch: Partial<RunRecord>): Promise<RunRecord> {
  const run = async (): Promise<RunRecord> => {
    const record = { ...(await readRunRecord(dir)), ...patch };
    await writeRunRecord(dir, record);
    return record;
  };
  const next = (pending.get(dir) ?? Promise.resolve()).then(run, run);
  const settled = next.catch(() => undefined);
  pending.set(dir, settled);
  void settled.then(() => {
    if (pending.get(dir) === settled) pending.delete(dir);
  });
  return next;
}

/** First 16 hex chars of sha256 over canonical JSON, so key order never changes the hash. */
export function hashConfig(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** JSON.stringify with object keys sorted at every depth; array order is kept (it is meaningful). */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }) ?? 'undefined'
  );
}

function looksLikeRunRecord(value: unknown): value is RunRecord {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return ['id', 'name', 'status', 'startedAt'].every((k) => typeof r[k] === 'string');
}
