// The summary.json document of docs/design.md (also what `--json` prints), and its pieces.
import type { BackendRecord } from '../engine/backend/backend.ts';
import type { ClassificationMetrics, SecondsSummary } from '../metrics/report.ts';
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

/** Peak resident set size of this process so far, in MB (Linux reports maxRSS in KiB). */
export function peakRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
