// `mtl runs show <run>` for a person: what ran and how it ended, its best epoch, the val/test
// table (per strategy or per task for transfer and multi-task runs), and where its checkpoints are.
import chalk from 'chalk';
import { compareRuns, formatCell } from '../report/compare.ts';
import { type LoadedRun, readCheckpoints } from '../report/load.ts';
import { bestEpoch, commandLine, get, splitMetricsTable } from '../report/sections/common.ts';
import { fixed, num, pct } from '../report/spec.ts';
import type { JsonObject } from '../report/types.ts';
import { table } from './output.ts';

export async function describeRun(run: LoadedRun): Promise<string[]> {
  const r = run.record;
  const s = run.summary;
  const status = String(r?.status ?? s?.status ?? 'unknown');
  const colour = status === 'completed' ? chalk.green : status === 'failed' ? chalk.red : chalk.yellow;
  const lines = [`${chalk.bold(run.id)}  ${run.kind}  ${colour(status)}`];
  if (r?.error) lines.push(`  error     ${r.error}`);
  lines.push(`  ran       ${commandLine(run)}`);
  if (r?.startedAt)
    lines.push(`  started   ${stamp(r.startedAt)}${r.endedAt ? `, ended ${stamp(r.endedAt)}` : ''}${duration(s)}`);
  lines.push(...setupLines(run));
  lines.push('', ...resultLines(run));
  const checkpoints = await readCheckpoints(run);
  if (checkpoints.length > 0) {
    lines.push('', 'checkpoints');
    for (const c of checkpoints) {
      const what = [
        c.epoch !== null ? `epoch ${c.epoch}` : null,
        c.optimizer ? 'with optimizer state' : null,
        `${(c.bytes / 1e6).toFixed(1)} MB`,
      ];
      lines.push(`  ${c.name.padEnd(4)}  ${c.dir}  (${what.filter(Boolean).join(', ')})`);
    }
  }
  lines.push(
    '',
    ...relationLines(run),
    chalk.dim(`folder: ${run.dir}`),
    chalk.dim(`next: mtl report ${run.id}${run.kind === 'sweep' ? '' : `  ·  mtl eval ${run.id}`}`),
  );
  return lines;
}

function setupLines(run: LoadedRun): string[] {
  const s = run.summary;
  const lines: string[] = [];
  const data = s?.data as JsonObject | undefined;
  if (data?.dataset)
    lines.push(
      `  data      ${data.dataset}: ${data.train} train / ${data.val} val / ${data.test} test, ${data.numClasses} classes`,
    );
  const model = get(run.config, 'model.type');
  if (model && run.kind !== 'transfer') {
    const hidden = get(run.config, 'model.hidden');
    const opt = `${get(run.config, 'trainer.optimizer.name')} lr ${get(run.config, 'trainer.optimizer.lr')}`;
    lines.push(
      `  model     ${model}${Array.isArray(hidden) ? ` [${hidden.join(', ')}]` : ''}; ${opt}; seed ${run.record?.seed ?? get(run.config, 'seed')}`,
    );
  }
  const epochs = num(s?.epochs);
  const best = bestEpoch(run);
  if (epochs !== null && run.kind !== 'transfer' && run.kind !== 'sweep') {
    const monitor = get(run.config, 'trainer.monitor') ?? 'val.accuracy';
    lines.push(
      `  best      epoch ${best ?? '—'} of ${epochs} (selected on ${monitor})${s?.stoppedEarly ? ', stopped early' : ''}`,
    );
  }
  return lines;
}

function resultLines(run: LoadedRun): string[] {
  const s = run.summary;
  if (!s) return [chalk.yellow(`no summary.json yet (${run.history.length} epochs in metrics.jsonl)`)];
  if (run.kind === 'transfer') return transferLines(s);
  if (run.kind === 'multitask') return multitaskLines(s);
  if (run.kind === 'sweep') {
    const metrics = compareRuns([run]).metrics.filter((m) => m.key !== 'status' && m.key !== 'kind');
    return [
      table(
        ['sweep', ''],
        metrics.map((m) => [m.key, formatCell(m.values[0]!, m.format)]),
      ),
    ];
  }
  const t = splitMetricsTable(run);
  return t ? [table(t.header, t.rows)] : [];
}

function transferLines(s: JsonObject): string[] {
  const strategies = (s.strategies ?? {}) as Record<string, JsonObject>;
  const gain = (s.gain ?? {}) as Record<string, JsonObject>;
  const rows = Object.entries(strategies).map(([name, st]) => {
    const g = gain[name];
    const mean = num(g?.mean);
    return [
      name,
      pct(num(get(st, 'test.accuracy.mean'))),
      fixed(num(get(st, 'test.macroF1.mean'))),
      pct(num(get(st, 'val.accuracy.mean'))),
      mean === null
        ? name === 'reinit'
          ? '(baseline)'
          : '—'
        : `${mean >= 0 ? '+' : '−'}${Math.abs(mean * 100).toFixed(2)} pp ${g?.verdict ?? ''}`,
    ];
  });
  const source = `source ${get(s, 'source.runId')} (${get(s, 'source.dataset')}): test accuracy ${pct(num(get(s, 'source.test.accuracy')))}`;
  return [
    source,
    `target ${get(s, 'target.dataset')}: ${get(s, 'target.epochs')} epochs per strategy, seeds ${(s.seeds as number[] | undefined)?.join(', ') ?? '—'}`,
    '',
    table(['strategy', 'test acc', 'macro-F1', 'val acc', 'gain vs scratch'], rows),
  ];
}

function multitaskLines(s: JsonObject): string[] {
  const tasks = (s.tasks ?? {}) as Record<string, JsonObject>;
  const rows = Object.entries(tasks).map(([name, t]) => [
    name,
    pct(num(get(t, 'val.accuracy'))),
    fixed(num(get(t, 'test.loss'))),
    pct(num(get(t, 'test.accuracy'))),
    fixed(num(get(t, 'test.macroF1'))),
  ]);
  const lines = [
    `${get(s, 'multitask.architecture')} / ${get(s, 'multitask.weighting')}`,
    table(['task', 'val acc (best)', 'test loss', 'test acc', 'macro-F1'], rows),
  ];
  const drop = num(get(s, 'deltaM.dropPct'));
  if (drop !== null)
    lines.push(
      `Δm ${drop.toFixed(2)}% (drop, lower is better)   Δp ${fixed(num(get(s, 'deltaM.deltaPPct')), 2)}% (higher is better)`,
    );
  return lines;
}

function relationLines(run: LoadedRun): string[] {
  const r = run.record;
  const lines: string[] = [];
  if (r?.parentRunId) lines.push(`parent    ${r.parentRunId}`);
  if (r?.childRunIds && r.childRunIds.length > 0) lines.push(`children  ${r.childRunIds.join(', ')}`);
  return lines;
}

function stamp(iso: string): string {
  return `${iso.replace('T', ' ').slice(0, 19)} UTC`;
}

function duration(s: JsonObject | null): string {
  const total = num(get(s, 'timing.totalSeconds'));
  return total === null ? '' : ` (${total.toFixed(1)} s)`;
}
