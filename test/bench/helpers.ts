// Fake benchmark results for the format and regression tests (no timing is measured here).
import type { BenchReport, WorkloadResult } from '../../src/bench/types.ts';

export function epochResult(name: string, median: number, extra: Partial<WorkloadResult> = {}): WorkloadResult {
  return {
    name,
    description: `fake ${name}`,
    kind: 'epoch',
    backend: 'wasm',
    threads: 2,
    epochs: { warmup: 1, measured: 3 },
    samplesPerEpoch: 1000,
    secondsPerEpoch: { median, min: median * 0.9, max: median * 1.2 },
    samplesPerSecond: 1000 / median,
    wallSeconds: 10,
    peakRssMB: 500,
    accuracy: 0.97,
    ...extra,
  };
}

export function jobResult(name: string, wallSeconds: number): WorkloadResult {
  return {
    name,
    description: `fake ${name}`,
    kind: 'job',
    backend: 'wasm',
    threads: 2,
    wallSeconds,
    peakRssMB: 900,
    accuracy: 0.85,
  };
}

export function fakeReport(workloads: WorkloadResult[]): BenchReport {
  return {
    tool: 'mtl bench',
    mtlVersion: '0.0.0',
    date: '2026-01-01T00:00:00.000Z',
    suite: 'quick',
    backendRequested: 'auto',
    host: { cpu: 'test cpu', cores: 2, cpuFlags: ['avx2'], platform: 'linux-x64', node: '20', memoryMB: 4096 },
    rounds: 1,
    workloads,
    peers: [],
    skipped: [],
  };
}
