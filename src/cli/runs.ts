// `mtl runs ls|show`: list run folders and show one run's record and summary.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { UsageError } from '../errors.ts';
import { listRuns, resolveRun } from '../runs/resolve.ts';
import { pct, printJson, say, table } from './output.ts';

interface RunsOptions {
  runsDir: string;
  json?: boolean;
}

function readSummary(dir: string): Record<string, unknown> | null {
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function runsListCommand(options: RunsOptions): Promise<void> {
  const runs = await listRuns(options.runsDir);
  if (options.json) {
    printJson(runs.map((r) => ({ ...r.record, dir: r.dir, summary: readSummary(r.dir) })));
    return;
  }
  if (runs.length === 0) {
    say(`no runs in ${options.runsDir}`);
    return;
  }
  const rows = runs.map((r) => {
    const s = readSummary(r.dir) as { test?: { accuracy?: number } } | null;
    const status = r.record.status === 'completed' ? chalk.green(r.record.status) : chalk.yellow(r.record.status);
    return [r.id, r.record.kind, status, r.record.startedAt.replace('T', ' ').slice(0, 19), pct(s?.test?.accuracy)];
  });
  say(table(['run', 'kind', 'status', 'started (UTC)', 'test acc'], rows));
}

export async function runsShowCommand(ref: string, options: RunsOptions): Promise<void> {
  const run = await resolveRun(options.runsDir, ref);
  if (options.json) {
    printJson({ ...run.record, dir: run.dir, summary: readSummary(run.dir) });
    return;
  }
  const { loadRunFolder } = await import('../report/load.ts');
  const { describeRun } = await import('./runs-show.ts');
  say((await describeRun(await loadRunFolder(run.dir))).join('\n'));
}

export async function runsCompareCommand(refs: string[], options: RunsOptions & { all?: boolean }): Promise<void> {
  if (refs.length < 2) throw new UsageError(`runs compare needs at least two runs (got ${refs.length})`);
  const { loadRun } = await import('../report/load.ts');
  const { compareRuns } = await import('../report/compare.ts');
  const runs = [];
  for (const ref of refs) runs.push(await loadRun(options.runsDir, ref));
  const comparison = compareRuns(runs, { all: options.all });
  if (options.json) printJson(comparison);
  const { formatComparison } = await import('./runs-compare.ts');
  say(formatComparison(comparison, options.all ?? false));
}
