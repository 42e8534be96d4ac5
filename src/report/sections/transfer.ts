// The sections of a transfer run: the strategies side by side (accuracy, gain and its noise band,
// zero-shot), validation curves per strategy from the child runs, and the classes of the fine-tuned
// child that `mtl eval` would pick (best validation accuracy, never test).
import { classificationCharts } from '../charts/classification.ts';
import { type CurveSeries, curveCharts } from '../charts/curves.ts';
import { gainChart, type StrategyGain, type StrategyResult, strategyAccuracyChart } from '../charts/transfer.ts';
import { type LoadedRun, loadSibling } from '../load.ts';
import { fixed, num, pct, pctMeanStd, slug } from '../spec.ts';
import type { JsonObject, MeanStdJson, Section, Table } from '../types.ts';
import { bestEpoch, get, runFactsTable, statusNotes } from './common.ts';
import { classificationEvidence } from './evidence.ts';

interface ChildJson {
  seed: number;
  runId: string;
  test?: { accuracy?: number };
  valAccuracy?: number | null;
}

interface StrategyJson {
  test?: { accuracy?: MeanStdJson; macroF1?: MeanStdJson };
  epochsToBest?: MeanStdJson;
  perSeed?: ChildJson[];
}

export async function transferSections(run: LoadedRun): Promise<Section[]> {
  const prefix = slug(run.id);
  const strategies = (run.summary?.strategies ?? {}) as Record<string, StrategyJson>;
  const children = await loadChildren(run, strategies);
  return [
    overviewSection(run, strategies, prefix),
    strategiesSection(run, strategies, prefix),
    curvesSection(strategies, children, prefix),
    bestChildSection(strategies, children, prefix),
  ];
}

function overviewSection(run: LoadedRun, strategies: Record<string, StrategyJson>, prefix: string): Section {
  const s = run.summary;
  const source: Table = {
    title: 'Source model',
    header: ['', ''],
    rows: [
      ['run', String(get(s, 'source.runId') ?? '—') + (get(s, 'source.reused') ? ' (reused)' : '')],
      ['dataset', String(get(s, 'source.dataset') ?? '—')],
      ['test accuracy (source task)', pct(num(get(s, 'source.test.accuracy')))],
      ['epochs per strategy (target)', String(get(s, 'target.epochs') ?? '—')],
    ],
  };
  const notes = [...statusNotes(run), ...((s?.notes as string[] | undefined) ?? [])];
  const missing = s ? [] : ['No summary.json yet: strategy results appear when the transfer finishes.'];
  const tables = [runFactsTable(run), source, strategiesTable(s, strategies)];
  return { id: `${prefix}-summary`, title: 'Transfer summary', subtitle: run.id, notes, missing, tables, charts: [] };
}

function strategiesTable(s: JsonObject | null, strategies: Record<string, StrategyJson>): Table {
  const seeds = (s?.seeds as number[] | undefined)?.length ?? 1;
  const gains = (s?.gain ?? {}) as Record<string, { mean: number; verdict: string }>;
  const gain = (name: string): string => {
    const g = gains[name];
    if (!g) return name === 'reinit' ? 'baseline' : '—';
    return `${g.mean >= 0 ? '+' : '−'}${Math.abs(g.mean * 100).toFixed(2)} pp`;
  };
  const spread = seeds > 1 ? ` (mean ± std over ${seeds} seeds)` : '';
  return {
    title: `Target ${String(get(s, 'target.dataset') ?? '')}: test metrics per strategy${spread}`,
    header: ['strategy', 'test accuracy', 'macro-F1', 'gain vs reinit', 'verdict', 'epochs to best'],
    rows: Object.entries(strategies).map(([name, st]) => [
      name,
      pctMeanStd(st.test?.accuracy, seeds > 1),
      fixed(num(st.test?.macroF1?.mean)),
      gain(name),
      gains[name]?.verdict ?? '',
      fixed(num(st.epochsToBest?.mean), 1),
    ]),
  };
}

function strategiesSection(run: LoadedRun, strategies: Record<string, StrategyJson>, prefix: string): Section {
  const results: StrategyResult[] = Object.entries(strategies).flatMap(([strategy, st]) => {
    const mean = num(st.test?.accuracy?.mean);
    if (mean === null) return [];
    const perSeed = (st.perSeed ?? []).flatMap((c) => {
      const accuracy = num(c.test?.accuracy);
      return accuracy === null ? [] : [{ seed: c.seed, accuracy }];
    });
    return [{ strategy, mean, std: num(st.test?.accuracy?.std) ?? 0, perSeed }];
  });
  const gains: StrategyGain[] = Object.entries((run.summary?.gain ?? {}) as Record<string, JsonObject>).map(
    ([strategy, g]) => ({
      strategy,
      mean: num(g.mean) ?? 0,
      se: num(g.se) ?? 0,
      verdict: String(g.verdict ?? ''),
    }),
  );
  const chance = num(get(run.summary, 'zeroShot.chance'));
  const charts = results.length > 0 ? [strategyAccuracyChart(results, chance, `${prefix}-strategy-accuracy`)] : [];
  if (gains.length > 0) charts.push(gainChart(gains, `${prefix}-strategy-gain`));
  const missing =
    gains.length === 0 && results.length > 0
      ? ['No gain chart: no `reinit` baseline was run (add `--strategy reinit`).']
      : [];
  const skipped = get(run.summary, 'zeroShot.skipped');
  const notes = typeof skipped === 'string' ? [`Zero-shot skipped: ${skipped}.`] : [];
  return { id: `${prefix}-strategies`, title: 'Strategies', notes, missing, tables: [], charts };
}

function curvesSection(
  strategies: Record<string, StrategyJson>,
  children: Map<string, LoadedRun>,
  prefix: string,
): Section {
  const series: CurveSeries[] = [];
  const lost: string[] = [];
  for (const [strategy, st] of Object.entries(strategies)) {
    if (strategy === 'zero-shot') continue; // evaluated as is: no epochs to draw
    const runs = (st.perSeed ?? []).flatMap((c) => {
      const child = children.get(c.runId);
      if (!child) lost.push(c.runId);
      return child && child.history.length > 0 ? [{ history: child.history, bestEpoch: bestEpoch(child) }] : [];
    });
    if (runs.length > 0) series.push({ label: strategy, runs });
  }
  const charts = curveCharts(series, `${prefix}-curves`, 'accuracy', {
    splits: ['validation'],
    seriesName: 'strategy',
    include: ['loss', 'metric', 'lr'],
  });
  const missing = lost.length > 0 ? [`Child run folders not found next to the transfer run: ${lost.join(', ')}.`] : [];
  return { id: `${prefix}-curves`, title: 'Validation curves by strategy', notes: [], missing, tables: [], charts };
}

/** The fine-tuned child with the best validation accuracy (not reinit, not zero-shot), as `mtl eval` picks. */
function bestChildSection(
  strategies: Record<string, StrategyJson>,
  children: Map<string, LoadedRun>,
  prefix: string,
): Section {
  const candidates = Object.entries(strategies)
    .filter(([s]) => s !== 'reinit' && s !== 'zero-shot')
    .flatMap(([strategy, st]) => (st.perSeed ?? []).map((c) => ({ strategy, child: c })));
  const best = candidates.reduce<(typeof candidates)[number] | null>(
    (a, b) => (a === null || (b.child.valAccuracy ?? -1) > (a.child.valAccuracy ?? -1) ? b : a),
    null,
  );
  const section: Section = {
    id: `${prefix}-best-child`,
    title: 'Best fine-tuned child, class by class',
    notes: [],
    missing: [],
    tables: [],
    charts: [],
  };
  const child = best ? children.get(best.child.runId) : undefined;
  if (!best || !child) {
    section.missing.push(best ? `Child run ${best.child.runId} not found.` : 'No fine-tuned strategy ran.');
    return section;
  }
  section.subtitle = `${best.strategy}, seed ${best.child.seed} (${child.id}): best validation accuracy ${pct(best.child.valAccuracy ?? null)}`;
  const evidence = classificationEvidence(child);
  section.missing.push(...evidence.missing);
  if (evidence.input)
    section.charts.push(...classificationCharts(evidence.input, `${prefix}-best`, ` (${best.strategy})`));
  return section;
}

async function loadChildren(run: LoadedRun, strategies: Record<string, StrategyJson>): Promise<Map<string, LoadedRun>> {
  const out = new Map<string, LoadedRun>();
  for (const st of Object.values(strategies)) {
    for (const c of st.perSeed ?? []) {
      const child = await loadSibling(run, c.runId);
      if (child) out.set(c.runId, child);
    }
  }
  return out;
}
