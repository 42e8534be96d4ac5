// test-report.json: the detailed evaluation of the test split a run does when it finishes (confusion
// matrix, per-class metrics, ROC curves), so `mtl report` can draw them without loading the model.
import { join } from 'node:path';
import { type DetailInput, type EvaluationDetail, evaluationDetail } from '../metrics/detail.ts';
import { writeJsonAtomic } from './atomic.ts';

export const TEST_REPORT_FILE = 'test-report.json';

export interface TestReport {
  split: 'test';
  /** The epoch whose weights were scored (the best one; 0 for zero-shot). */
  epoch: number;
  /** Single-task runs: the one evaluation. */
  detail?: EvaluationDetail;
  /** Multi-task runs: one evaluation per task. */
  tasks?: Record<string, EvaluationDetail>;
}

/** A single-task run's test report, scored at `epoch`'s weights. */
export async function writeTestReport(dir: string, epoch: number, input: DetailInput): Promise<void> {
  const report: TestReport = { split: 'test', epoch, detail: evaluationDetail(input) };
  await writeJsonAtomic(join(dir, TEST_REPORT_FILE), report);
}

/** A multi-task run's test report: one evaluation per task. */
export async function writeMultiTaskTestReport(
  dir: string,
  epoch: number,
  tasks: Record<string, DetailInput>,
): Promise<void> {
  const details = Object.fromEntries(Object.entries(tasks).map(([name, input]) => [name, evaluationDetail(input)]));
  const report: TestReport = { split: 'test', epoch, tasks: details };
  await writeJsonAtomic(join(dir, TEST_REPORT_FILE), report);
}
