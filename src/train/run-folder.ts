// The one run-folder lifecycle of every kind of run (docs/design.md, "Run folder"): create the folder
// (exclusive mkdir) → run.json `running` (+ config.yaml) → the body → summary.json → run.json with
// how it ended; `failed` with the error's message when the body throws.
import { join } from 'node:path';
import { stringifyConfig } from '../config/print.ts';
import type { ResolvedConfig } from '../config/types.ts';
import { writeFileAtomic, writeJsonAtomic } from '../runs/atomic.ts';
import { createRunDir } from '../runs/run-dir.ts';
import { type RunKind, type RunRecord, type RunStatus, updateRunRecord, writeRunRecord } from '../runs/run-record.ts';

export interface RunIdentity {
  id: string;
  dir: string;
  kind: RunKind;
  /** performance.now() when the run started (for timing.totalSeconds). */
  started: number;
}

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
}

/** Runs `body` in a new run folder and records how it ended; the body returns the summary document. */
export async function runInRunFolder<S extends { status: RunStatus }>(
  o: RunFolderOptions,
  body: (run: RunIdentity) => Promise<S>,
): Promise<S> {
  const started = performance.now();
  const { id, dir } = await createRunDir(o.runsDir, o.name, { id: o.id });
  // Keys in the order a person reads run.json: who, what, state, when, then the rest.
  const { kind, argv, ...rest } = o.record;
  await writeRunRecord(dir, {
    id,
    name: o.name,
    kind,
    status: 'running',
    argv,
    startedAt: new Date().toISOString(),
    endedAt: null,
    ...rest,
    childRunIds: rest.childRunIds ?? [],
  });
  if (o.config) await writeFileAtomic(join(dir, 'config.yaml'), stringifyConfig(o.config));
  o.onCreated?.(id, dir);
  try {
    const summary = await body({ id, dir, kind: o.record.kind, started });
    await writeJsonAtomic(join(dir, 'summary.json'), summary);
    await updateRunRecord(dir, { status: summary.status, endedAt: new Date().toISOString() });
    return summary;
  } catch (err) {
    await updateRunRecord(dir, { status: 'failed', endedAt: new Date().toISOString(), error: (err as Error).message });
    throw err;
  }
}
