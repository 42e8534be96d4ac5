// Runs a benchmark suite: each workload in its own child process, one at a time (so they never share
// the cores), then each PyTorch peer when asked; returns the report that --out and --json write.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultThreads } from '../engine/native/runtime.ts';
import { UsageError } from '../errors.ts';
import { describeHost } from './host.ts';
import { findPeerPython, runPeer } from './peers.ts';
import type { BenchReport, PeerResult, Suite, WorkloadResult } from './types.ts';
import { runWorkload, suiteWorkloads, type Workload } from './workloads.ts';

export interface BenchOptions {
  suite: Suite;
  backend: string;
  /** Also run the PyTorch peers of the MLP and CNN workloads. */
  peers: boolean;
  /** Run only the workloads with these names (default: the whole suite). */
  only?: string[];
  /** Smoke runs: epoch workloads on this many examples (named `<name>@<n>`); job workloads skipped. */
  limit?: number;
}

export interface BenchHooks {
  onWorkloadStart?(w: Workload, index: number, count: number): void;
  onWorkloadEnd?(r: WorkloadResult): void;
  onPeerStart?(w: Workload): void;
  onPeerEnd?(p: PeerResult): void;
  onSkip?(name: string, reason: string): void;
  onStderrLine?(line: string): void;
}

export function selectWorkloads(suite: Suite, only?: string[], limit?: number): Workload[] {
  const all = suiteWorkloads(suite).map((w) => (limit ? limitWorkload(w, limit) : w));
  if (!only?.length) return all;
  const matches = (w: Workload, n: string): boolean => w.name === n || w.name.split('@')[0] === n;
  const unknown = only.filter((n) => !all.some((w) => matches(w, n)));
  if (unknown.length) {
    throw new UsageError(
      `unknown workload ${unknown.map((n) => `'${n}'`).join(', ')} in suite ${suite} (expected: ${all.map((w) => w.name).join(', ')})`,
    );
  }
  return all.filter((w) => only.some((n) => matches(w, n)));
}

export async function runBench(o: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const workloads = selectWorkloads(o.suite, o.only, o.limit);
  const peer = o.peers ? await findPeerPython() : null;
  const runsDir = mkdtempSync(join(tmpdir(), 'mtl-bench-runs-'));
  const threads = defaultThreads();
  const results: WorkloadResult[] = [];
  const peers: PeerResult[] = [];
  const skipped: string[] = [];
  try {
    for (const [i, w] of workloads.entries()) {
      const reason = w.unavailable?.() ?? null;
      if (reason) {
        skipped.push(`${w.name}: ${reason}`);
        hooks.onSkip?.(w.name, reason);
        continue;
      }
      hooks.onWorkloadStart?.(w, i, workloads.length);
      const r = await runWorkload(w, { backend: o.backend, runsDir, threads, onStderrLine: hooks.onStderrLine });
      results.push(r);
      hooks.onWorkloadEnd?.(r);
    }
    for (const w of peer ? workloads : []) {
      if (w.kind !== 'epoch' || !w.peer || !results.some((r) => r.name === w.name)) continue;
      hooks.onPeerStart?.(w);
      const p = await runPeer(
        w,
        results.find((r) => r.name === w.name),
        peer!.python,
      );
      peers.push(p);
      hooks.onPeerEnd?.(p);
    }
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  return {
    tool: 'mtl bench',
    mtlVersion: mtlVersion(),
    date: new Date().toISOString(),
    suite: o.suite,
    backendRequested: o.backend,
    host: describeHost(),
    workloads: results,
    peers,
    skipped,
  };
}

/** The same workload on `limit` examples, renamed so its numbers never meet a full run's baseline. */
function limitWorkload(w: Workload, limit: number): Workload {
  if (w.kind === 'job') return { ...w, unavailable: () => `--limit ${limit}: job workloads run only at full size` };
  const description = `${w.description.replace(/ on \d+ examples$/, '')} on ${limit} examples (--limit)`;
  return { ...w, name: `${w.name.split('@')[0]}@${limit}`, limit, description };
}

function mtlVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
