// `mtl sweep <file>` (local, or --queue to enqueue and return) and `mtl sweep status|wait|resume|cancel`.
import { dirname } from 'node:path';
import chalk from 'chalk';
import { InputError, MtlError, UsageError } from '../errors.ts';
import { resolveRun } from '../runs/resolve.ts';
import {
  appendEvent,
  createSweepFolder,
  ownSweep,
  readSweepFolder,
  type SweepFolder,
  setSweepStatus,
} from '../sweep/folder.ts';
import { type HostPool, threadsPerTrial } from '../sweep/hosts.ts';
import { runLocal } from '../sweep/local.ts';
import { planSweep } from '../sweep/plan.ts';
import { loadSweepSpec, type SweepFlags } from '../sweep/spec.ts';
import type { SweepSummary } from '../sweep/types.ts';
import { printJson, say } from './output.ts';
import { interruptFlag } from './signals.ts';
import { createSweepProgress, printPlan, printSweepResult } from './sweep-print.ts';

export interface SweepRunOptions extends SweepFlags {
  jobs: number;
  queue?: string;
  queueName: string;
  dryRun?: boolean;
  runsDir: string;
  json?: boolean;
}

/** `hosts`: trial hosts the caller started early for a local run (closed by the caller), or null. */
export async function sweepRunCommand(
  file: string,
  o: SweepRunOptions,
  argv: string[],
  hosts: HostPool | null = null,
): Promise<void> {
  const spec = loadSweepSpec(file, o, true);
  const plan = planSweep(spec);
  const points = plan.points.length;
  say(
    chalk.dim(
      `mtl sweep ${file}  ${spec.method}: ${points} point${points === 1 ? '' : 's'} × ${spec.seeds} seed${spec.seeds === 1 ? '' : 's'} = ${plan.trials.length} trials  metric ${spec.metric}` +
        (spec.earlyTerminate ? `  early termination ${spec.earlyTerminate.type}` : ''),
    ),
  );
  if (o.dryRun) {
    printPlan(plan.trials);
    if (o.json) printJson({ kind: 'sweep', status: 'planned', metric: spec.metric, trials: plan.trials });
    return;
  }
  // A wrong --queue fails here, before a sweep folder exists to be left behind.
  if (o.queue) await (await import('../sweep/queue.ts')).probeRedis(o.queue);
  const folder = await createSweepFolder(o.runsDir, spec, plan.trials, argv);
  say(chalk.dim(`sweep ${folder.id}  →  ${folder.dir}`));
  const summary = o.queue
    ? await enqueueSweep(folder, o.queue, o.queueName)
    : await runHere(folder, o.runsDir, o.jobs, hosts);
  finish(summary, o.json);
}

async function runHere(
  folder: SweepFolder,
  runsDir: string,
  jobs: number,
  hosts: HostPool | null = null,
): Promise<SweepSummary> {
  const pending = folder.plan.filter((t) => !folder.results.has(t.trialId)).length;
  if (jobs > 1) say(chalk.dim(`${jobs} trials at once, ${threadsPerTrial(jobs)} kernel thread(s) each`));
  const progress = createSweepProgress(pending, jobs);
  const controller = new AbortController();
  // Ctrl-C: trials stop after their step; the sweep ends `interrupted`, and `mtl sweep resume` goes on.
  const poll = setInterval(() => interruptFlag.isSet() && controller.abort(), 200);
  // This process owns the sweep while it runs here: `mtl runs` shows it crashed if the process dies.
  const heartbeat = await ownSweep(folder.dir);
  try {
    return await runLocal(folder, {
      runsDir,
      jobs,
      ...(hosts ? { hosts } : {}),
      signal: controller.signal,
      onProgress: (e, s) => progress.update(e, s),
    });
  } finally {
    clearInterval(poll);
    clearInterval(heartbeat);
    progress.stop();
  }
}

function finish(summary: SweepSummary, json?: boolean): void {
  if (json) printJson(summary);
  if (summary.status === 'queued') return;
  printSweepResult(summary);
  const ran = summary.trials.filter((t) => t.status !== 'planned');
  if (summary.status === 'completed' && ran.length > 0 && ran.every((t) => t.status === 'failed')) {
    throw new MtlError(`every trial failed; the first said: ${ran[0]!.error ?? 'no message'}`);
  }
}

async function enqueueSweep(folder: SweepFolder, url: string, name: string): Promise<SweepSummary> {
  const q = await import('./sweep-queue.ts');
  return q.enqueueNew(folder, url, name);
}

interface RefOptions {
  runsDir: string;
  queue?: string;
  queueName?: string;
  json?: boolean;
}

async function openSweep(ref: string, runsDir: string): Promise<SweepFolder> {
  const run = await resolveRun(runsDir, ref, 'sweep');
  if (run.record.kind !== 'sweep') throw new InputError(`${run.id} is a ${run.record.kind} run, not a sweep`);
  return readSweepFolder(run.dir);
}

export async function sweepStatusCommand(ref: string, o: RefOptions): Promise<void> {
  const folder = await openSweep(ref, o.runsDir);
  const q = await import('./sweep-queue.ts');
  const summary = (await q.queueOf(folder, o)) ? await q.statusQueued(folder, o) : await q.statusLocal(folder);
  if (o.json) printJson(summary);
  printSweepResult(summary);
}

export async function sweepWaitCommand(ref: string, o: RefOptions & { timeout?: number }): Promise<void> {
  const folder = await openSweep(ref, o.runsDir);
  const q = await import('./sweep-queue.ts');
  if (!(await q.queueOf(folder, o))) throw new UsageError(`${folder.id} ran locally: there is nothing to wait for`);
  finish(await q.waitQueued(folder, o), o.json);
}

export async function sweepResumeCommand(ref: string, o: RefOptions & { jobs: number }): Promise<void> {
  const folder = await openSweep(ref, o.runsDir);
  const q = await import('./sweep-queue.ts');
  if (await q.queueOf(folder, o)) return finish(await q.resumeQueued(folder, o), o.json);
  const left = folder.plan.filter((t) => !folder.results.has(t.trialId)).length;
  say(chalk.dim(`resuming ${folder.id}: ${folder.results.size} trials ended before, ${left} to run`));
  await appendEvent(folder.dir, { event: 'resume', mode: 'local', left });
  await setSweepStatus(folder.dir, 'running');
  // Its trials go beside it (where its earlier trials are), whatever --runs-dir says.
  finish(await runHere(folder, dirname(folder.dir), o.jobs), o.json);
}

export async function sweepCancelCommand(ref: string, o: RefOptions): Promise<void> {
  const folder = await openSweep(ref, o.runsDir);
  const q = await import('./sweep-queue.ts');
  if (!(await q.queueOf(folder, o))) throw new UsageError(`${folder.id} runs locally: stop it with Ctrl-C`);
  const summary = await q.cancelQueued(folder, o);
  if (o.json) printJson(summary);
  printSweepResult(summary);
}
