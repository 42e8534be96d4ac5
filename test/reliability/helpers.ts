// The fault-injection suite's tools: the real CLI as a child process that can be killed at a chosen
// moment, a view of a run folder's progress (the epoch its last/ holds), and the resume contract's
// comparison of two run folders (checkpoint and optimizer bytes, metrics.jsonl and summary metrics).

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../e2e/helpers.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  exit: Promise<Exit>;
}

/** Starts `mtl <args>` (NO_COLOR, extra env such as MTL_FAULT) without waiting for it. */
export function startMtl(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'mtl'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exit };
}

export function runMtl(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return startMtl(args, env).exit;
}

/** The run folders in `runsDir` (not hidden), sorted. */
export function runFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => !d.startsWith('.'))
    .sort()
    .map((d) => join(runsDir, d));
}

/** The epoch last/ holds (from its resume.json), or 0 when none was saved yet. */
export function savedEpoch(runDir: string): number {
  try {
    return JSON.parse(readFileSync(join(runDir, 'checkpoints', 'last', 'resume.json'), 'utf8')).loop.epoch;
  } catch {
    return 0;
  }
}

/** The highest saved epoch of the runs in `runsDir` whose folder name contains `part`. */
export function savedEpochIn(runsDir: string, part = ''): number {
  return Math.max(
    0,
    ...runFolders(runsDir)
      .filter((d) => d.includes(part))
      .map(savedEpoch),
  );
}

/** Polls `ready` every 5 ms; rejects when `running` exits first or after `timeoutMs`. */
export async function waitUntil(ready: () => boolean, running: Running, timeoutMs = 120_000): Promise<void> {
  let exited = false;
  void running.exit.then(() => {
    exited = true;
  });
  const start = Date.now();
  while (!ready()) {
    if (exited) throw new Error('the run ended before the moment it was to be killed at');
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for the run');
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Files of the resume contract: they must be byte-identical between a resumed and an uninterrupted run. */
const SAME_BYTES = [
  'checkpoints/best/weights.bin',
  'checkpoints/last/weights.bin',
  'checkpoints/last/optimizer.bin',
  'checkpoints/last/optimizer.json',
];

/** metrics.jsonl records without the wall-clock field. */
export function metricsWithoutTiming(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _seconds, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

/** summary.json without its identity (run id, folder), timing and host (memory, backend) fields. */
export function summaryMetrics(runDir: string): Record<string, unknown> {
  const { runId: _i, runDir: _d, timing: _t, memory: _m, ...rest } = readJson(join(runDir, 'summary.json'));
  return rest;
}

/**
 * The resume contract: checkpoint weights and optimizer files byte for byte, resume.json (but for
 * the config hash, which names the source run of a fine-tune), every metrics.jsonl record but its
 * seconds, and summary.json's metrics.
 */
export function assertSameRun(resumed: string, reference: string): void {
  for (const f of SAME_BYTES) assert.equal(sha256(join(resumed, f)), sha256(join(reference, f)), `${f} differs`);
  const state = (dir: string) => {
    const s = readJson<{ guards: Record<string, unknown> }>(join(dir, 'checkpoints', 'last', 'resume.json'));
    return { ...s, guards: { ...s.guards, configHash: null } };
  };
  assert.deepEqual(state(resumed), state(reference), 'checkpoints/last/resume.json differs');
  assert.deepEqual(metricsWithoutTiming(resumed), metricsWithoutTiming(reference), 'metrics.jsonl differs');
  assert.deepEqual(summaryMetrics(resumed), summaryMetrics(reference), 'summary.json metrics differ');
}
