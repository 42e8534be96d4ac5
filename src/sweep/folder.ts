// The sweep's run folder (kind `sweep`), the source of truth of a sweep: sweep.yaml (a sweep file
// that re-runs it), plan.jsonl (every trial, drawn up front), events.jsonl (starts, ends, retries,
// pruning decisions; an `end` event carries the trial's result) and summary.json.

import { readFile, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { InputError } from '../errors.ts';
import { appendJsonl, writeFileAtomic, writeJsonAtomic } from '../runs/atomic.ts';
import { HEARTBEAT_EVERY_MS, thisProcess } from '../runs/liveness.ts';
import { createRunDir } from '../runs/run-dir.ts';
import { hashConfig, type RunStatus, readRunRecord, updateRunRecord, writeRunRecord } from '../runs/run-record.ts';
import type { ParamSpec, PlannedTrial, SweepSpec, SweepSummary, TrialResult } from './types.ts';

const MTL_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export const SWEEP_FILES = {
  spec: 'sweep.yaml',
  plan: 'plan.jsonl',
  events: 'events.jsonl',
  summary: 'summary.json',
} as const;

export interface SweepEvent {
  t: string;
  event: 'sweep-start' | 'enqueue' | 'start' | 'rung' | 'prune' | 'retry' | 'end' | 'resume' | 'cancel' | 'sweep-end';
  trialId?: string;
  [field: string]: unknown;
}

export interface SweepFolder {
  id: string;
  dir: string;
  spec: SweepSpec;
  plan: PlannedTrial[];
  /** The first `end` result of every trial that ended: a second delivery never counts twice. */
  results: Map<string, TrialResult>;
  events: SweepEvent[];
  startedAt: string;
}

/** Creates runs/<name>-<stamp>-<xxxx>/ with run.json, sweep.yaml and plan.jsonl. */
export async function createSweepFolder(
  runsDir: string,
  spec: SweepSpec,
  plan: readonly PlannedTrial[],
  argv: string[],
): Promise<SweepFolder> {
  const { id, dir } = await createRunDir(runsDir, spec.name);
  // A sweep trains nothing itself: its checkpoints live in the trials' run folders.
  await Promise.all([rmdir(join(dir, 'checkpoints')), rmdir(join(dir, 'eval'))]);
  const startedAt = new Date().toISOString();
  await writeRunRecord(dir, {
    id,
    name: spec.name,
    kind: 'sweep',
    status: 'running',
    argv,
    startedAt,
    endedAt: null,
    seed: spec.seed,
    backend: { name: 'none', gpu: false },
    versions: { mtl: MTL_VERSION, node: process.versions.node },
    configHash: hashConfig(spec),
    parentRunId: null,
    childRunIds: [],
  });
  await writeFileAtomic(join(dir, SWEEP_FILES.spec), specYaml(spec));
  await writeFileAtomic(join(dir, SWEEP_FILES.plan), plan.map((t) => `${JSON.stringify(t)}\n`).join(''));
  await writeFileAtomic(join(dir, SWEEP_FILES.events), '');
  return { id, dir, spec, plan: [...plan], results: new Map(), events: [], startedAt };
}

/** sweep.yaml: the spec as a sweep file (base made absolute), so `mtl sweep <it>` re-runs the sweep. */
export function specYaml(spec: SweepSpec): string {
  const parameters = Object.fromEntries(Object.entries(spec.parameters).map(([k, p]) => [k, paramAsYaml(p)]));
  const { parameters: _, ...rest } = spec;
  return `# mtl sweep: the resolved sweep spec\n${stringify({ sweep: { ...rest, parameters } }, { lineWidth: 0 })}`;
}

function paramAsYaml(p: ParamSpec): unknown {
  if (p.kind === 'values') return p.values;
  return { min: p.min, max: p.max, log: p.log, int: p.int, steps: p.steps };
}

export async function appendEvent(dir: string, event: Omit<SweepEvent, 't'> & { t?: string }): Promise<void> {
  await appendJsonl(join(dir, SWEEP_FILES.events), { t: event.t ?? new Date().toISOString(), ...event });
}

export async function writeSweepSummary(dir: string, summary: SweepSummary): Promise<void> {
  await writeJsonAtomic(join(dir, SWEEP_FILES.summary), summary);
}

/**
 * A sweep running in this process records it (pid, start token) and a heartbeat, as a training run
 * does, so a killed sweep is listed `crashed` instead of `running` forever; returns the heartbeat
 * timer to clear. A queued sweep has no process of its own (its trials run in workers).
 */
export async function ownSweep(dir: string): Promise<ReturnType<typeof setInterval>> {
  await updateRunRecord(dir, { ...thisProcess(), heartbeatAt: new Date().toISOString() });
  const timer = setInterval(
    () => void updateRunRecord(dir, { heartbeatAt: new Date().toISOString() }).catch(() => undefined),
    HEARTBEAT_EVERY_MS,
  );
  timer.unref();
  return timer;
}

export async function setSweepStatus(dir: string, status: RunStatus): Promise<void> {
  const ended = status === 'running' ? null : new Date().toISOString();
  await updateRunRecord(dir, { status, endedAt: ended });
}

/** Reads a sweep folder back (resume, status, wait); InputError when it is not a sweep. */
export async function readSweepFolder(dir: string): Promise<SweepFolder> {
  const record = await readRunRecord(dir);
  if (record.kind !== 'sweep') throw new InputError(`${dir} is a ${record.kind} run, not a sweep`);
  const { loadSweepSpec } = await import('./spec.ts');
  const spec = loadSweepSpec(join(dir, SWEEP_FILES.spec));
  const plan = parseJsonl<PlannedTrial>(await readFile(join(dir, SWEEP_FILES.plan), 'utf8'));
  const events = parseJsonl<SweepEvent>(await readFile(join(dir, SWEEP_FILES.events), 'utf8').catch(() => ''));
  const results = new Map<string, TrialResult>();
  for (const e of events) {
    const r = e.result as TrialResult | undefined;
    if (e.event === 'end' && e.trialId && r && !results.has(e.trialId)) results.set(e.trialId, r);
  }
  return { id: record.id, dir, spec, plan, results, events, startedAt: record.startedAt };
}

/** JSON lines; a torn last line (a writer killed mid-append) is ignored rather than fatal. */
export function parseJsonl<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // Only a final partial line can be torn (appends are single writes); skip it.
    }
  }
  return out;
}
