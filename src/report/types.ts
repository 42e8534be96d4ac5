// The report's model (a page is sections of tables and charts; a chart is a Vega-Lite spec and the
// rows behind it) and the loose shapes it reads from run folders: every field a run of an older mtl
// may lack is optional, so a report opens any run folder.
import type { TopLevelSpec } from 'vega-lite';
import type { EvaluationDetail } from '../metrics/detail.ts';

export type JsonObject = Record<string, unknown>;

/** One row of the data behind a chart: what the CSV export and `--json` give. */
export type Row = Record<string, string | number | boolean | null>;

export type ChartFamily = 'curves' | 'classification' | 'transfer' | 'multitask' | 'sweep' | 'compare';

export interface Chart {
  /** Unique on the page, stable across runs of the command (anchors, SVG id prefixes). */
  id: string;
  family: ChartFamily;
  title: string;
  /** One or two sentences on how to read it. */
  caption: string;
  rows: Row[];
  spec: TopLevelSpec;
}

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

export interface Section {
  id: string;
  title: string;
  subtitle?: string;
  /** Findings in words (transfer verdicts, Δm). */
  notes: string[];
  /** What could not be drawn and why (old run folders, no baselines…). */
  missing: string[];
  tables: Table[];
  charts: Chart[];
}

export interface ReportModel {
  title: string;
  sources: Array<{ id: string; kind: string; dir: string }>;
  sections: Section[];
}

/** A metrics.jsonl record. */
export interface EpochRow {
  epoch: number;
  seconds?: number;
  lr?: number;
  train?: { loss?: number; accuracy?: number };
  /** Single task: {loss, accuracy, macroF1}; multi-task: {<task>: {…}}. */
  val?: JsonObject | null;
  trainTasks?: Record<string, { loss?: number; accuracy?: number }>;
  weights?: Record<string, number> | null;
  gradients?: { space?: string; cosine?: Record<string, number>; conflictRate?: Record<string, number> };
  phase?: string;
}

/** An eval/<stamp>.json written by `mtl eval` (classNames and roc only from this version on). */
export interface EvalFile {
  file: string;
  runId?: string;
  checkpoint?: string;
  dataset?: string;
  split?: string;
  evaluatedAt?: string;
  examples?: number;
  metrics?: { perClass?: EvaluationDetail['perClass']; confusion?: number[][]; accuracy?: number };
  classNames?: string[];
  roc?: EvaluationDetail['roc'];
}

export interface MeanStdJson {
  mean: number;
  std: number;
}
