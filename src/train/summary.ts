// The summary.json document of docs/design.md (also what `--json` prints), and its pieces.
import { readFileSync, writeFileSync } from 'node:fs';
import type { BackendRecord } from '../engine/backend/backend.ts';
import { type ClassificationMetrics, type SecondsSummary, summarizeSeconds } from '../metrics/report.ts';
import type { RunKind, RunStatus } from '../runs/run-record.ts';

export interface TestMetrics {
  loss: number;
  accuracy: number;
  macroF1: number;
  aucRoc: number;
}

export interface Timing {
  totalSeconds: number;
  epochSeconds: SecondsSummary;
  samplesPerSecond: number;
  /** Reading the data (from the decoded cache, for the bundled sets), splitting and preprocessing it,
   *  and moving the training and validation splits to the backend (single-task runs). */
  dataSeconds?: number;
}

/** A run's epoch times as timing.epochSeconds: all 0 when no epoch completed (a run stopped during its
 *  first epoch, a zero-shot transfer), which summary.json still reports. */
export function epochSecondsSummary(seconds: number[]): SecondsSummary {
  return seconds.length > 0 ? summarizeSeconds(seconds) : { median: 0, min: 0, max: 0 };
}

export interface RunSummary {
  runId: string;
  runDir: string;
  kind: RunKind;
  status: RunStatus;
  backend: BackendRecord;
  seed: number;
  epochs: number;
  bestEpoch: number;
  val: { loss: number; accuracy: number; macroF1?: number } | null;
  test: TestMetrics;
  timing: Timing;
  memory: { peakRssMB: number };
  /** Extra facts: dataset, counts, early stop… (additions to the contract; never renamed). */
  data?: {
    dataset: string;
    train: number;
    val: number;
    test: number;
    numClasses: number;
    /** Your own data: how its test split was held out (fraction, fixed seed), and its fingerprint. */
    testSplit?: { fraction: number; seed: number; stratifiedBy: string };
    fingerprint?: string;
  };
  stoppedEarly?: boolean;
}

export function pickTestMetrics(m: ClassificationMetrics): TestMetrics {
  return { loss: m.loss, accuracy: m.accuracy, macroF1: m.macroF1, aucRoc: m.aucRoc };
}

/**
 * Peak resident set size in MB: of this process so far, or, in a sweep's trial host, since its
 * current trial began (resetPeakRss). Linux: VmHWM, which /proc/self/clear_refs can reset; elsewhere
 * getrusage's maxRSS (KiB on Linux, bytes on macOS — Node reports KiB for both).
 */
export function peakRssMB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Math.round(Number(hwm[1]) / 1024);
  } catch {
    // no procfs: the lifetime peak below
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Restarts the peak at the current resident size (Linux ≥ 4.0; elsewhere the lifetime peak stays). */
export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: peakRssMB stays the process's lifetime peak
  }
}
