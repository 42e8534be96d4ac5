// `mtl report` as a plain function: load the run folders, build the sections each kind of run
// calls for (plus a comparison when there are several), draw every chart, and assemble the page.
import { createRequire } from 'node:module';
import { renderPage } from './html.ts';
import { type LoadedRun, loadRun } from './load.ts';
import { type RenderedChart, renderCharts } from './render.ts';
import { comparisonSections } from './sections/compare.ts';
import { multitaskSections } from './sections/multitask.ts';
import { singleRunSections } from './sections/single.ts';
import { sweepSections } from './sections/sweep.ts';
import { transferSections } from './sections/transfer.ts';
import type { ReportModel, Section } from './types.ts';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface BuiltReport {
  model: ReportModel;
  charts: RenderedChart[];
  html: string;
}

export async function buildReport(runsDir: string, refs: string[], title?: string): Promise<BuiltReport> {
  const runs: LoadedRun[] = [];
  for (const ref of refs) runs.push(await loadRun(runsDir, ref));
  const model = await reportModel(runs, title);
  const charts = await renderCharts(model.sections.flatMap((s) => s.charts));
  const html = renderPage({ model, charts: new Map(charts.map((c) => [c.id, c])), generator: `mtl ${VERSION}` });
  return { model, charts, html };
}

export async function reportModel(runs: LoadedRun[], title?: string): Promise<ReportModel> {
  const sections: Section[] = [];
  if (runs.length > 1) sections.push(...comparisonSections(runs));
  for (const run of runs) sections.push(...(await sectionsOf(run, runs.length > 1)));
  return {
    title: title ?? defaultTitle(runs),
    sources: runs.map((r) => ({ id: r.id, kind: r.kind, dir: r.dir })),
    sections: uniqueIds(sections),
  };
}

async function sectionsOf(run: LoadedRun, several: boolean): Promise<Section[]> {
  const sections = await sectionsByKind(run);
  // With several runs on one page, every section names its run.
  return several ? sections.map((s) => ({ ...s, subtitle: s.subtitle ?? run.id })) : sections;
}

function sectionsByKind(run: LoadedRun): Promise<Section[]> | Section[] {
  switch (run.kind) {
    case 'transfer':
      return transferSections(run);
    case 'multitask':
      return multitaskSections(run);
    case 'sweep':
      return sweepSections(run);
    default:
      return singleRunSections(run);
  }
}

function defaultTitle(runs: LoadedRun[]): string {
  if (runs.length === 1) return `mtl report: ${runs[0]!.id}`;
  return `mtl report: ${runs.length} runs`;
}

/** The same run given twice must not give two elements one id. */
function uniqueIds(sections: Section[]): Section[] {
  const seen = new Map<string, number>();
  const next = (id: string): string => {
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    return n === 0 ? id : `${id}-${n + 1}`;
  };
  return sections.map((s) => ({ ...s, id: next(s.id), charts: s.charts.map((c) => ({ ...c, id: next(c.id) })) }));
}
