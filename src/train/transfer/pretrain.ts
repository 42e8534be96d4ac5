// The source phase of `mtl transfer`: reuse a completed pretrain run of the same config, or train one;
// a resumed transfer goes on with the source run it had started (kept when completed, else resumed).
import { openResumeTarget } from '../../resume/target.ts';
import { resolveRun } from '../../runs/resolve.ts';
import { updateRunRecord } from '../../runs/run-record.ts';
import { runSingleTask } from '../single/experiment.ts';
import { runContext, type Source, type TransferRecord, type TransferRun } from './job-types.ts';
import { findReusableSource, sourceFromFolder } from './source.ts';

/**
 * Reuse a completed pretrain run of exactly this config (same hash), or train one now. A resumed
 * transfer goes on with the source run it had started: kept when completed, else resumed.
 */
export async function pretrainSource(run: TransferRun): Promise<Source> {
  const { o, hooks, plan } = run;
  const config = plan.sourceConfig;
  const prior = run.resume?.sourceRunId ? await resolveRun(o.runsDir, run.resume.sourceRunId) : null;
  const existing =
    prior?.record.status === 'completed' ? prior : prior ? null : await findReusableSource(o.runsDir, config);
  if (existing) {
    // A resumed transfer's own source, trained before the interruption, is still "trained", not reused.
    const reused = existing !== prior || (run.resume!.target.record as TransferRecord).sourceReused !== false;
    const source = { ...sourceFromFolder(existing), config, reused, status: 'completed' as const };
    hooks.onEvent?.({ type: 'source', source, trained: !reused });
    return source;
  }
  hooks.onEvent?.({ type: 'source-training', config });
  const summary = await runSingleTask(config, {
    ...runContext(o, hooks, 'source', null, 'pretrain'),
    // Linked at once, so a transfer killed while pretraining can resume this very run.
    onRunCreated: (sourceRunId) =>
      void updateRunRecord(run.dir, { sourceRunId, sourceReused: false } as Partial<TransferRecord>),
    ...(prior ? { resume: openResumeTarget(prior, run.resume!.target.force) } : {}),
  });
  const done = await resolveRun(o.runsDir, summary.runId);
  const source =
    summary.status === 'completed'
      ? { ...sourceFromFolder(done), config, reused: false, status: summary.status }
      : {
          runId: done.id,
          runDir: done.dir,
          checkpointDir: '',
          test: summary.test,
          config,
          reused: false,
          status: summary.status,
        };
  hooks.onEvent?.({ type: 'source', source, trained: true });
  return source;
}
