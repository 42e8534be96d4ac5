// From a bench report to github-action-benchmark's custom format (smaller_is_better.json,
// bigger_is_better.json: arrays of {name, unit, value, range?, extra?}) plus results.json.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../runs/atomic.ts';
import type { BenchmarkEntry, BenchReport, Metric, PeerResult, WorkloadResult } from './types.ts';

export const OUTPUT_FILES = {
  smaller: 'smaller_is_better.json',
  bigger: 'bigger_is_better.json',
  results: 'results.json',
} as const;

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Every metric of the report, each with its direction. Names are `<workload> <measure>`. */
export function reportMetrics(report: Pick<BenchReport, 'workloads' | 'peers'>): Metric[] {
  return [...report.workloads.flatMap(workloadMetrics), ...report.peers.flatMap(peerMetrics)];
}

export function workloadMetrics(w: WorkloadResult): Metric[] {
  const out: Metric[] = [];
  const extra = [
    `backend ${w.backend ?? '?'}`,
    w.threads ? `${w.threads} threads` : null,
    w.kernels ? `kernels ${w.kernels}` : null,
    w.epochs ? `${w.epochs.measured} epochs after ${w.epochs.warmup} warm-up` : null,
  ]
    .filter(Boolean)
    .join(', ');
  if (w.secondsPerEpoch) {
    const s = w.secondsPerEpoch;
    out.push({
      name: `${w.name} epoch time`,
      unit: 's/epoch',
      value: round(s.median, 3),
      direction: 'smaller',
      speed: true,
      range: `${round(s.min, 3)}–${round(s.max, 3)}`,
      extra: `median; ${extra}`,
    });
  }
  if (w.samplesPerSecond !== undefined) {
    out.push({
      name: `${w.name} throughput`,
      unit: 'samples/s',
      value: Math.round(w.samplesPerSecond),
      direction: 'bigger',
      speed: true,
      extra,
    });
  }
  if (w.kind === 'job') {
    out.push({
      name: `${w.name} wall time`,
      unit: 's',
      value: round(w.wallSeconds, 2),
      direction: 'smaller',
      speed: true,
      extra,
    });
  }
  if (w.peakRssMB !== null) {
    out.push({ name: `${w.name} peak RSS`, unit: 'MB', value: w.peakRssMB, direction: 'smaller', speed: false, extra });
  }
  if (w.accuracy !== null) {
    out.push({
      name: `${w.name} test accuracy`,
      unit: '%',
      value: round(w.accuracy * 100, 2),
      direction: 'bigger',
      speed: false,
      extra,
    });
  }
  return out;
}

function peerMetrics(p: PeerResult): Metric[] {
  if (p.ratio === null) return [];
  return [
    {
      name: `${p.workload} time vs ${p.engine.split('-')[0]}`,
      unit: 'x',
      value: round(p.ratio, 3),
      direction: 'smaller',
      speed: true,
      extra: `mtl median s/epoch ÷ ${p.engine} (${p.threads} thread${p.threads === 1 ? '' : 's'}) ${round(p.secondsPerEpoch.median, 3)} s/epoch`,
    },
  ];
}

/** Strip the direction bookkeeping: exactly the fields github-action-benchmark reads. */
export function toEntries(metrics: Metric[]): BenchmarkEntry[] {
  return metrics.map(({ name, unit, value, range, extra }) => ({
    name,
    unit,
    value,
    ...(range !== undefined ? { range } : {}),
    ...(extra ? { extra } : {}),
  }));
}

/** Write the three files into `dir` (created if needed); returns their paths. */
export async function writeBenchOutputs(dir: string, report: BenchReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const metrics = reportMetrics(report);
  const files = [
    [join(dir, OUTPUT_FILES.smaller), toEntries(metrics.filter((m) => m.direction === 'smaller'))],
    [join(dir, OUTPUT_FILES.bigger), toEntries(metrics.filter((m) => m.direction === 'bigger'))],
    [join(dir, OUTPUT_FILES.results), report],
  ] as const;
  for (const [path, value] of files) await writeJsonAtomic(path, value);
  return files.map(([path]) => path);
}
