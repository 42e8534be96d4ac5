// summary.json of a multi-task run (docs/design.md: `tasks: {<task>: {val, test}}`, and `deltaM` with
// baselines), plus what the run adds: architecture, weighting, distillation.
import type { MultitaskArchitecture, WeightingName } from '../../config/types.ts';
import type { BackendRecord } from '../../engine/backend/backend.ts';
import type { SecondsSummary } from '../../metrics/report.ts';
import type { RunStatus } from '../../runs/run-record.ts';
import type { TestMetrics } from '../summary.ts';

export interface TaskValMetrics {
  loss: number;
  accuracy: number;
  macroF1: number;
}

export interface TaskResult {
  /** At the best epoch (selected on validation). */
  val: TaskValMetrics | null;
  test: TestMetrics;
  dataset: string;
  labels: string;
  numClasses: number;
}

export interface DeltaM {
  /** Maninis et al. 2019 performance drop, % (lower is better; negative = multi-task beats single-task). */
  dropPct: number;
  /** LibMTL's task-balanced Δp, % (higher is better; positive = multi-task beats single-task). */
  deltaPPct: number;
  baselineRunIds: string[];
  /** The single-task test metrics Δm compared against, per task. */
  baselines: Record<string, Record<string, number>>;
}

export interface DistillReport {
  temperature: number;
  alpha: number;
  /** Per task: the teacher run and its test accuracy, next to the student's. */
  tasks: Record<string, { teacherRunId: string | null; teacherAccuracy: number | null; studentAccuracy: number }>;
}

export interface MultiTaskSummary {
  runId: string;
  runDir: string;
  kind: 'multitask';
  status: RunStatus;
  backend: BackendRecord;
  seed: number;
  epochs: number;
  bestEpoch: number;
  tasks: Record<string, TaskResult>;
  multitask: {
    architecture: MultitaskArchitecture;
    weighting: WeightingName;
    normalizeLosses: string;
    inputs: 'single' | 'multi';
    /** Where gradient diagnostics were measured (gradient methods), else null. */
    gradientSpace: string | null;
    /** Task weights of the last epoch (mean over its steps, or the learned values). */
    finalWeights: Record<string, number> | null;
  };
  deltaM?: DeltaM;
  distill?: DistillReport;
  timing: { totalSeconds: number; epochSeconds: SecondsSummary; samplesPerSecond: number };
  memory: { peakRssMB: number };
  data: { groups: { dataset: string; train: number; val: number; test: number }[] };
  stoppedEarly: boolean;
}
