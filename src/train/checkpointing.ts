// What every mode writes at the end of an epoch, in this order: the metrics.jsonl record, then
// checkpoints/last/ (weights, optimizer state and resume.json, swapped in as one folder), then
// checkpoints/best/ when the epoch improved, then the heartbeat. last/ goes first so that a kill
// between the two leaves a complete resume point; best/ then holds the same weights, and
// restore.ts rewrites it from last/ when the kill fell in between.
import { join } from 'node:path';
import type { Preprocess } from '../data/normalize.ts';
import type { tf } from '../engine/backend/tf.ts';
import { type NamedOptimizer, saveCheckpoint } from '../models/checkpoint.ts';
import { globalRandomStream } from '../random/seeding.ts';
import { optimizerExtras } from '../resume/optimizer-state.ts';
import { encodeResumeState, type Guards, RESUME_FILE, RESUME_FORMAT } from '../resume/state.ts';
import { appendJsonl } from '../runs/atomic.ts';
import type { EpochRecord, LoopCallbacks, LoopProgram, LoopState } from './loop.ts';
import { type RunIdentity, touchHeartbeat } from './run-folder.ts';

/** What a run checkpoints, shared by the epoch writer and the resume (restore.ts). */
export interface CheckpointPlan {
  run: RunIdentity;
  model: tf.LayersModel;
  preprocess: Preprocess;
  /** model.json's userDefinedMetadata (the epoch is added). */
  metadata: Record<string, unknown>;
  /** The optimizers of the current parameter groups, saved with last/. */
  optimizers: () => NamedOptimizer[];
  program: LoopProgram;
  /** This run's guards (resume/guards.ts lazyGuards: computed at the first save). */
  guards: () => Guards;
}

/** The loop's onEpochEnd for `plan`; `forward` (the CLI's progress) is called after the files are written. */
export function epochCheckpointer(plan: CheckpointPlan, forward?: LoopCallbacks['onEpochEnd']) {
  const checkpoints = join(plan.run.dir, 'checkpoints');
  return async (record: EpochRecord, improved: boolean, state: LoopState): Promise<void> => {
    await appendJsonl(join(plan.run.dir, 'metrics.jsonl'), record);
    const common = { preprocess: plan.preprocess, metadata: { ...plan.metadata, epoch: record.epoch } };
    const optimizers = plan.optimizers();
    const resume = encodeResumeState({
      format: RESUME_FORMAT,
      loop: state,
      mathRandom: globalRandomStream()?.getState() ?? null,
      program: plan.program.saveState?.() ?? {},
      optimizers: optimizerExtras(optimizers),
      guards: plan.guards(),
    });
    await saveCheckpoint(join(checkpoints, 'last'), plan.model, {
      ...common,
      optimizers,
      extraFiles: { [RESUME_FILE]: resume },
    });
    if (improved) await saveCheckpoint(join(checkpoints, 'best'), plan.model, common);
    await touchHeartbeat(plan.run.dir);
    await forward?.(record, improved, state);
  };
}
