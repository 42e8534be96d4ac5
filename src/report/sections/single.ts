// The sections of a single-task run (pretrain or fine-tune): what ran, its learning curves, and what
// it gets wrong class by class on the test split.
import { classificationCharts } from '../charts/classification.ts';
import { curveCharts } from '../charts/curves.ts';
import type { LoadedRun } from '../load.ts';
import { slug } from '../spec.ts';
import type { Section } from '../types.ts';
import { bestEpoch, monitorMetric, runFactsTable, splitMetricsTable, statusNotes } from './common.ts';
import { classificationEvidence } from './evidence.ts';

export function singleRunSections(run: LoadedRun, prefix = slug(run.id)): Section[] {
  const metrics = splitMetricsTable(run);
  const summary: Section = {
    id: `${prefix}-summary`,
    title: 'Summary',
    subtitle: run.id,
    notes: statusNotes(run),
    missing: run.summary ? [] : ['No summary.json yet: metrics appear when the run finishes.'],
    tables: [runFactsTable(run), ...(metrics ? [metrics] : [])],
    charts: [],
  };
  const curves: Section = {
    id: `${prefix}-curves`,
    title: 'Learning curves',
    notes: [],
    missing: run.history.length === 0 ? ['No epochs recorded (metrics.jsonl is empty or missing).'] : [],
    tables: [],
    charts: curveCharts(
      [{ label: run.id, runs: [{ history: run.history, bestEpoch: bestEpoch(run) }] }],
      `${prefix}-curves`,
      monitorMetric(run),
    ),
  };
  const evidence = classificationEvidence(run);
  const classes: Section = {
    id: `${prefix}-classes`,
    title: 'Test split, class by class',
    notes: [],
    missing: evidence.missing,
    tables: [],
    charts: evidence.input ? classificationCharts(evidence.input, `${prefix}-test`) : [],
  };
  return [summary, curves, classes];
}
