// Where a run's per-class numbers come from: its test-report.json (written when it evaluated its
// test split), else the newest `mtl eval` of the test split; and, when neither exists, a sentence
// saying so and how to get them.
import type { EvaluationDetail } from '../../metrics/detail.ts';
import type { ClassificationInput } from '../charts/classification.ts';
import type { LoadedRun } from '../load.ts';

export interface Evidence {
  input: ClassificationInput | null;
  missing: string[];
}

/** Per-class inputs of a single-task run, or of one task of a multi-task run. */
export function classificationEvidence(run: LoadedRun, task?: string): Evidence {
  const report = run.testReport;
  const detail = task === undefined ? report?.detail : report?.tasks?.[task];
  if (report && detail)
    return { input: fromDetail(detail, `test split, weights of epoch ${report.epoch}`), missing: [] };
  if (task !== undefined) {
    return {
      input: null,
      missing: [`${task}: no per-class test results saved (the run predates test-report.json).`],
    };
  }
  return fromEvalFiles(run);
}

function fromDetail(d: EvaluationDetail, source: string): ClassificationInput {
  return { classNames: d.classNames, confusion: d.confusion, perClass: d.perClass, roc: d.roc, source };
}

function fromEvalFiles(run: LoadedRun): Evidence {
  const file = run.evals.find((e) => e.split === 'test' && Array.isArray(e.metrics?.confusion));
  if (!file) {
    return {
      input: null,
      missing: [
        `No per-class test results: this run predates test-report.json and has no \`mtl eval\` of its test split. ` +
          `\`mtl eval ${run.id}\` adds one (confusion matrix, per-class metrics, ROC curves).`,
      ],
    };
  }
  const confusion = file.metrics!.confusion!;
  const classNames = file.classNames ?? confusion.map((_, c) => String(c));
  const missing = file.roc
    ? []
    : [
        `ROC curves: ${file.file} was written by an older mtl without per-class scores; run \`mtl eval ${run.id}\` again.`,
      ];
  const source = `test split, ${file.checkpoint ?? 'best'} checkpoint, ${file.file}`;
  return { input: { classNames, confusion, perClass: file.metrics?.perClass, roc: file.roc, source }, missing };
}
