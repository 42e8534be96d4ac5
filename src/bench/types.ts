// What `mtl bench` measures and writes: one result per workload, its PyTorch peer when run, and the
// github-action-benchmark entries derived from them.
import type { SecondsSummary } from '../metrics/report.ts';

export type Suite = 'quick' | 'full';

export interface WorkloadResult {
  /** Stable name: baselines are matched on it, so a workload that changes must change its name. */
  name: string;
  description: string;
  kind: 'epoch' | 'job';
  /** Backend the child actually used, and the threads mtl's kernels ran on. */
  backend: string | null;
  threads: number | null;
  /** wasm: the build of mtl's kernels the child ran (`simd`, or `simd-fma`). */
  kernels?: string;
  /** Epoch workloads: epochs run, of which the first `warmup` are left out of the statistics. */
  epochs?: { warmup: number; measured: number };
  /** Training examples per epoch. */
  samplesPerEpoch?: number;
  secondsPerEpoch?: SecondsSummary;
  samplesPerSecond?: number;
  /** Wall time of the whole command (process start to exit). */
  wallSeconds: number;
  peakRssMB: number | null;
  /** Test accuracy reached (transfer: the best strategy's mean). */
  accuracy: number | null;
  versions?: Record<string, string>;
  extra?: Record<string, unknown>;
  /** With --rounds N > 1: each round's median s/epoch (epoch workloads) in the order run. */
  rounds?: number[];
}

export interface PeerResult {
  /** The mtl workload this peer mirrors. */
  workload: string;
  engine: string;
  threads: number;
  secondsPerEpoch: SecondsSummary;
  samplesPerSecond: number;
  accuracy: number;
  /** mtl's median s/epoch ÷ the peer's: below 1 means mtl is faster. With --rounds N > 1, the median
   *  of the rounds' ratios (each mtl run against the peer run next to it). */
  ratio: number | null;
  /** With --rounds N > 1: per round, mtl's and the peer's median s/epoch and their ratio. */
  rounds?: { mtl: number; peer: number; ratio: number }[];
}

export interface HostInfo {
  cpu: string;
  cores: number;
  /** SIMD features that matter here (avx2, fma, avx512f), from /proc/cpuinfo when readable. */
  cpuFlags: string[];
  platform: string;
  node: string;
  memoryMB: number;
}

export interface BenchReport {
  tool: 'mtl bench';
  mtlVersion: string;
  date: string;
  suite: Suite;
  backendRequested: string;
  host: HostInfo;
  /** Rounds per workload (--rounds): mtl and its peer alternate, so both see the same machine. */
  rounds: number;
  workloads: WorkloadResult[];
  peers: PeerResult[];
  skipped: string[];
}

/** One entry of github-action-benchmark's custom format (customSmallerIsBetter / customBiggerIsBetter). */
export interface BenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  range?: string;
  extra?: string;
}

export type Direction = 'smaller' | 'bigger';

/** A metric with its direction, and whether a change counts as a slowdown for --fail-on-regression. */
export interface Metric extends BenchmarkEntry {
  direction: Direction;
  speed: boolean;
}
