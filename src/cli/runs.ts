// `mtl runs ls|show`: list run folders and show one run's record and summary. A `running` run whose
// process is gone is shown `crashed` (runs/liveness.ts), and every run that can be continued names
// the command that does it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import { UsageError } from '../errors.ts';
import { type EffectiveStatus, runLiveness } from '../runs/liveness.ts';
import { listRuns, type ResolvedRun, resolveRun } from '../runs/resolve.ts';
import type { RunRecord } from '../runs/run-record.ts';
import { resumeCommandLine } from './options.ts';
import { pct, printJson, say, table } from './output.ts';

interface RunsOptions {
  runsDir: string;
  json?: boolean;
}

/**
 * Runs that `mtl resume` would finish: stopped or crashed ones, and those that failed for want of
 * room or permission (a NaN loss or a bad input would only fail again).
 */
function resumable(status: EffectiveStatus, record: RunRecord): boolean {
  return (
    status === 'interrupted' || status === 'crashed' || (status === 'failed' && record.errorType === 'StorageError')
  );
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

/**
 * run.json with the status to show: `crashed` (and why) for a running run whose process is gone, and
 * `queued` for a queued sweep that no worker has started on (its summary.json says so).
 */
function runDocument(r: ResolvedRun): Record<string, unknown> {
  const live = runLiveness(r.record);
  const queued = r.record.kind === 'sweep' && live.status === 'running' && readSummary(r.dir)?.status === 'queued';
  return {
    ...r.record,
    status: queued ? 'queued' : live.status,
    ...(live.status !== r.record.status ? { recordedStatus: r.record.status, statusReason: live.reason } : {}),
    ...(resumable(live.status, r.record) ? { resumeCommand: resumeCommandLine(r.record.kind, r.id) } : {}),
    dir: r.dir,
  };
}

function colorStatus(status: EffectiveStatus | 'queued'): string {
  if (status === 'completed') return chalk.green(status);
  return status === 'crashed' || status === 'failed' ? chalk.red(status) : chalk.yellow(status);
}

export async function runsListCommand(options: RunsOptions): Promise<void> {
  const runs = await listRuns(options.runsDir);
  if (options.json) {
    printJson(runs.map((r) => ({ ...runDocument(r), summary: readSummary(r.dir) })));
    return;
  }
  if (runs.length === 0) {
    say(`no runs in ${options.runsDir}`);
    return;
  }
  const docs = runs.map(runDocument);
  const rows = runs.map((r, i) => {
    const s = readSummary(r.dir) as { test?: { accuracy?: number } } | null;
    const status = docs[i]!.status as EffectiveStatus | 'queued';
    return [
      r.id,
      r.record.kind,
      colorStatus(status),
      r.record.startedAt.replace('T', ' ').slice(0, 19),
      pct(s?.test?.accuracy),
    ];
  });
  say(table(['run', 'kind', 'status', 'started (UTC)', 'test acc'], rows));
  const resumable = docs.filter((d) => d.resumeCommand);
  if (resumable.length > 0) {
    say();
    for (const d of resumable) say(chalk.dim(`${d.status} ${d.id}: continue it with ${d.resumeCommand}`));
  }
}

export async function runsShowCommand(ref: string, options: RunsOptions): Promise<void> {
  const run = await resolveRun(options.runsDir, ref);
  const summary = readSummary(run.dir);
  const doc = runDocument(run);
  if (options.json) {
    printJson({ ...doc, summary });
    return;
  }
  const { loadRunFolder } = await import('../report/load.ts');
  const { describeRun } = await import('./runs-show.ts');
  say((await describeRun(await loadRunFolder(run.dir))).join('\n'));
  if (doc.resumeCommand)
    say(
      chalk.yellow(
        `${doc.status}${doc.statusReason ? ` (${doc.statusReason})` : ''}: continue it with ${doc.resumeCommand}`,
      ),
    );
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
