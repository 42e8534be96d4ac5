// `mtl resume <run>` (and `mtl train --resume <run>`): find the run, refuse what cannot be resumed
// (still running, completed: nothing to do), start the backend it ran on, and hand it to its own
// trainer with the run folder as the resume target. The trainers do the rest through the shared
// pieces: run-folder.ts reopens the folder, restore.ts puts the state back, the loop continues.
import { dirname } from 'node:path';
import type { BackendName } from '../config/types.ts';
import { type BackendInfo, initBackend } from '../engine/backend/backend.ts';
import { InputError, UsageError } from '../errors.ts';
import { type EffectiveStatus, runLiveness } from '../runs/liveness.ts';
import { type ResolvedRun, resolveRun } from '../runs/resolve.ts';
import type { LoopCallbacks } from '../train/loop.ts';
import { runMultiTask } from '../train/multitask/experiment.ts';
import type { MultiTaskSummary } from '../train/multitask/summary.ts';
import { readRunConfig } from '../train/single/evaluate.ts';
import { type RunContext, runSingleTask } from '../train/single/experiment.ts';
import type { RunSummary } from '../train/summary.ts';
import { runFinetune } from '../train/transfer/finetune-run.ts';
import { runTransfer, type TransferHooks, type TransferRecord } from '../train/transfer/job.ts';
import type { TransferSummary } from '../train/transfer/report.ts';
import { openResumeTarget } from './target.ts';

export interface ResumeRequest {
  /** Run id, unique prefix, folder or `latest`. */
  ref: string;
  runsDir: string;
  /** Resume even if the config, data or environment changed (recorded as resumeExact: false). */
  force: boolean;
  /** Default: the backend the run was trained on. */
  backend?: BackendName;
  requireGpu?: boolean;
}

export interface ResumeHooks {
  /** Progress callbacks of a single-task or multi-task run. */
  progress?: (kind: 'single' | 'multitask') => LoopCallbacks | undefined;
  /** The transfer job's hooks (events, per-child progress), for a transfer run. */
  transfer?: Omit<TransferHooks, 'backend'>;
  shouldStop?: () => boolean;
  /** Told what is about to happen, once the run is found and the backend started. */
  onStart?: (run: ResolvedRun, status: EffectiveStatus, backend: BackendInfo, reason?: string) => void;
}

export type ResumeOutcome =
  | { state: 'completed-before'; run: ResolvedRun }
  | { state: 'resumed'; run: ResolvedRun; summary: RunSummary | MultiTaskSummary | TransferSummary };

export async function resumeRun(req: ResumeRequest, hooks: ResumeHooks = {}): Promise<ResumeOutcome> {
  const run = await resolveRun(req.runsDir, req.ref);
  if (run.record.kind === 'sweep') {
    throw new UsageError(
      `${run.id} is a sweep: \`mtl sweep resume ${run.id}\` continues it (its trials resume themselves)`,
    );
  }
  const live = runLiveness(run.record);
  if (live.status === 'completed') return { state: 'completed-before', run };
  if (live.status === 'running') openResumeTarget(run, req.force); // throws: says which process runs it
  const backend = await initBackend(req.backend ?? (run.record.backend.name as BackendName), {
    requireGpu: req.requireGpu,
  });
  hooks.onStart?.(run, live.status, backend, live.reason);
  const target = openResumeTarget(run, req.force);
  // The run's own runs dir: init.from, teachers and transfer children are found next to it.
  const runsDir = dirname(run.dir);
  if (run.record.kind === 'transfer') {
    const record = run.record as TransferRecord;
    if (!record.options) {
      throw new InputError(`transfer run ${run.id} was started by an mtl without resume (no options in run.json)`);
    }
    const o = { ...record.options, runsDir, argv: record.argv };
    const summary = await runTransfer(
      o,
      { backend, ...hooks.transfer, shouldStop: hooks.shouldStop },
      {
        target,
        sourceRunId: record.sourceRunId,
        childRunIds: record.childRunIds,
      },
    );
    return { state: 'resumed', run, summary };
  }
  const config = readRunConfig(run.dir);
  const ctx: RunContext = {
    runsDir,
    argv: run.record.argv,
    backend,
    shouldStop: hooks.shouldStop,
    resume: target,
    parentRunId: run.record.parentRunId,
    kind: run.record.kind,
    callbacks: hooks.progress?.(run.record.kind === 'multitask' ? 'multitask' : 'single'),
  };
  const summary =
    run.record.kind === 'multitask'
      ? await runMultiTask(config, ctx)
      : run.record.kind === 'finetune'
        ? await runFinetune(config, ctx)
        : await runSingleTask(config, ctx);
  return { state: 'resumed', run, summary };
}
