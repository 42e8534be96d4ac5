// Sweep tests run the real CLI (bin/mtl) and a real redis-server of their own on a free loopback
// port with a temp dir, stopped at the end. Without redis-server they skip, except under CI.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSummary } from '../../src/sweep/summary.ts';
import type { PlannedTrial, SweepSummary, TrialResult } from '../../src/sweep/types.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'mtl');

export function tempDir(prefix = 'mtl-sweep-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function mtl(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running mtl (a worker, a coordinator to kill); stderr is collected for messages. */
export function spawnMtl(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (b) => (text += b));
  child.stderr?.on('data', (b) => (text += b));
  return Object.assign(child, { output: () => text });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.on('exit', (code) => r(code)));
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function readJsonl(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** Run folders in a runs dir whose run.json names `parent` as parentRunId. */
export function childRuns(runsDir: string, parent: string): string[] {
  return readdirSync(runsDir).filter((d) => {
    const f = join(runsDir, d, 'run.json');
    return existsSync(f) && JSON.parse(readFileSync(f, 'utf8')).parentRunId === parent;
  });
}

/** The run.json fields the sweep tests read. */
export interface RunRecordFields {
  kind: string;
  status: string;
  pid: number;
  startedAt: string;
  configHash: string;
  parentRunId?: string;
  backend: { name: string };
  /** One per `mtl resume`: the epoch it went on from. */
  resumes?: { fromEpoch: number }[];
}

/** A run folder's run.json (`dir` a run folder, or a runs dir with the run's id). */
export function runRecord(dir: string, runId?: string | null): RunRecordFields {
  return JSON.parse(readFileSync(join(runId ? join(dir, runId) : dir, 'run.json'), 'utf8'));
}

/** metrics.jsonl without the wall-clock field: what must be identical between equal runs. */

export function metricsWithoutTime(runDir: string): unknown[] {
  return readJsonl(join(runDir, 'metrics.jsonl')).map(({ seconds: _, ...rest }) => rest);
}

export function redisServerPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Why the Redis tests cannot run here, or null; under CI=true a missing server is a failure. */
export function redisSkipReason(): string | null {
  if (redisServerPath()) return null;
  if (process.env.CI === 'true') throw new Error('redis-server is not installed (.ci/run installs it with apt-get)');
  return 'redis-server not found (apt-get install redis-server); the BullMQ tests need a real one';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** SIGTERM (which saves with persistence on), wait for the exit, start again on the same port and dir. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of the test's own; `persist` keeps an append-only file so a restart keeps the queue. */
export async function startRedis(persist = false): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir('mtl-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always');
  let server: ChildProcess;
  const boot = async (): Promise<void> => {
    server = spawn(redisServerPath()!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout?.on('data', (b) => (log += b));
    await waitFor('redis-server to accept connections', () => /Ready to accept connections/.test(log), 20_000);
  };
  await boot();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async restart(downMs = 1000) {
      server.kill('SIGTERM');
      await exited(server);
      await new Promise((r) => setTimeout(r, downMs));
      await boot();
    },
    async stop() {
      server.kill('SIGTERM');
      await exited(server);
    },
  };
}

/** A trial result as a finished trial hands it back, with the given validation and test accuracy. */
export function trialResult(
  trialId: string,
  val: number,
  test: number,
  status: 'completed' | 'pruned' = 'completed',
): TrialResult {
  return {
    trialId,
    status,
    runId: `run-${trialId}`,
    runDir: null,
    host: 'h',
    summary: { epochs: 2, val: { loss: 1, accuracy: val }, test: { loss: 1, accuracy: test } },
    history: [],
    exitCode: 0,
    attempt: 1,
    seconds: 1,
  };
}

/** buildSummary of a local grid sweep on val.accuracy (ended at `endedAt`, or running when null). */
export function summaryOf(
  plan: PlannedTrial[],
  results: Map<string, TrialResult>,
  endedAt: Date | null = null,
  startedAt = new Date(0),
): SweepSummary {
  return buildSummary({
    runId: 's',
    runDir: '/s',
    method: 'grid',
    metric: 'val.accuracy',
    plan,
    results,
    pending: 'planned',
    status: endedAt ? 'completed' : 'running',
    startedAt: startedAt.toISOString(),
    endedAt: endedAt?.toISOString() ?? null,
  });
}

/**
 * The trial of `start` (its first start in events.jsonl) ran once more, as a resume of that same run
 * folder, which then completed from an epoch it had saved (not from scratch, not in a new folder).
 */
export function assertWentOnInPlace(eventsFile: string, start: Record<string, unknown>): void {
  const starts = readJsonl(eventsFile).filter((e) => e.event === 'start' && e.trialId === start.trialId);
  assert.deepEqual(
    starts.map((e) => [e.runDir, e.resumed]),
    [
      [start.runDir, false],
      [start.runDir, true],
    ],
  );
  const run = runRecord(String(start.runDir));
  assert.equal(run.status, 'completed');
  assert.equal(run.resumes?.length, 1);
  assert.ok((run.resumes?.[0]?.fromEpoch ?? 0) >= 1, 'resumed from a saved epoch, not from scratch');
}
