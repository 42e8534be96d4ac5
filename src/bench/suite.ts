// Runs a benchmark suite: each workload in its own child process, one at a time (so they never share
// the cores), each followed by its PyTorch peer when asked, so the two see the same machine; with
// --rounds N the pair runs N times, alternating which goes first. Returns the report that --out and
// --json write.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultThreads } from '../engine/native/runtime.ts';
import { UsageError } from '../errors.ts';
import { summarizeSeconds } from '../metrics/report.ts';
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
  /** Runs of each workload (and its peer), alternating; results pool the rounds (default 1). */
  rounds?: number;
}

export interface BenchHooks {
  onWorkloadStart?(w: Workload, index: number, count: number, round: number, rounds: number): void;
  onWorkloadEnd?(r: WorkloadResult): void;
  onPeerStart?(w: Workload): void;
  onPeerEnd?(p: PeerResult): void;
  /** A round of a workload with a peer is over: both medians and mtl ÷ peer. */
  onRoundEnd?(w: Workload, round: number, pair: { mtl: number; peer: number; ratio: number }): void;
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
  const rounds = o.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new UsageError(`--rounds must be a whole number ≥ 1, got ${rounds}`);
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
      const withPeer = peer && w.kind === 'epoch' && w.peer ? w : null;
      const mine: WorkloadResult[] = [];
      const theirs: PeerResult[] = [];
      const runMine = async (round: number): Promise<void> => {
        hooks.onWorkloadStart?.(w, i, workloads.length, round, rounds);
        const r = await runWorkload(w, { backend: o.backend, runsDir, threads, onStderrLine: hooks.onStderrLine });
        mine.push(r);
        hooks.onWorkloadEnd?.(r);
      };
      const runTheirs = async (): Promise<void> => {
        hooks.onPeerStart?.(withPeer!);
        // The ratio is set once both sides of the round have run (pairRounds).
        const p = await runPeer(withPeer!, peer!.python);
        theirs.push(p);
        hooks.onPeerEnd?.(p);
      };
      for (let round = 1; round <= rounds; round++) {
        // Odd rounds run mtl first, even rounds the peer: neither always gets the machine first.
        if (withPeer && round % 2 === 0) await runTheirs();
        await runMine(round);
        if (withPeer && round % 2 === 1) await runTheirs();
        if (withPeer) hooks.onRoundEnd?.(w, round, roundPair(mine[round - 1]!, theirs[round - 1]!));
      }
      results.push(poolRounds(mine));
      if (withPeer) peers.push(pairRounds(mine, theirs));
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
    rounds,
    workloads: results,
    peers,
    skipped,
  };
}

const median = (xs: number[]): number => summarizeSeconds(xs).median;

/**
 * One result from a workload's rounds: s/epoch median = the median of the rounds' medians, min and max
 * over every measured epoch; wall time the median; peak RSS the highest. A single round is itself.
 */
export function poolRounds(rs: WorkloadResult[]): WorkloadResult {
  const first = rs[0]!;
  if (rs.length === 1) return first;
  const wall = median(rs.map((r) => r.wallSeconds));
  const rss = rs.map((r) => r.peakRssMB).filter((x): x is number => x !== null);
  const pooled: WorkloadResult = { ...first, wallSeconds: wall, peakRssMB: rss.length ? Math.max(...rss) : null };
  const epochs = rs.map((r) => r.secondsPerEpoch).filter((s) => s !== undefined);
  if (epochs.length === rs.length) {
    const m = median(epochs.map((s) => s.median));
    pooled.secondsPerEpoch = {
      median: m,
      min: Math.min(...epochs.map((s) => s.min)),
      max: Math.max(...epochs.map((s) => s.max)),
    };
    pooled.rounds = epochs.map((s) => s.median);
    if (first.samplesPerEpoch) pooled.samplesPerSecond = first.samplesPerEpoch / m;
  }
  return pooled;
}

function roundPair(mine: WorkloadResult, theirs: PeerResult): { mtl: number; peer: number; ratio: number } {
  const m = mine.secondsPerEpoch?.median ?? Number.NaN;
  return { mtl: m, peer: theirs.secondsPerEpoch.median, ratio: m / theirs.secondsPerEpoch.median };
}

/** The peer's pooled result, its ratio the median of the rounds' own (mtl ÷ the peer run beside it). */
export function pairRounds(mine: WorkloadResult[], theirs: PeerResult[]): PeerResult {
  const pairs = theirs.map((p, k) => roundPair(mine[k]!, p));
  const ratios = pairs.map((p) => p.ratio).filter((r) => Number.isFinite(r));
  const ratio = ratios.length ? median(ratios) : null;
  const first = theirs[0]!;
  if (theirs.length === 1) return { ...first, ratio };
  return {
    ...first,
    secondsPerEpoch: {
      median: median(pairs.map((p) => p.peer)),
      min: Math.min(...theirs.map((p) => p.secondsPerEpoch.min)),
      max: Math.max(...theirs.map((p) => p.secondsPerEpoch.max)),
    },
    samplesPerSecond: median(theirs.map((p) => p.samplesPerSecond)),
    ratio,
    rounds: pairs,
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
