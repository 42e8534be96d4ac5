// A resumed run put back exactly where its last completed epoch left it: metrics.jsonl cut to that
// epoch, the best-so-far weights, the model's weights, the program's state (random streams, phase,
// learned loss weights…), the optimizers (with Adam's β powers), Math.random's stream last, and the
// loop's position. The guards are checked first: a changed config, data set, version or backend
// refuses the resume (exit 3) unless --force.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../engine/backend/tf.ts';
import { IntegrityError } from '../errors.ts';
import { readCheckpointWeights, saveCheckpoint } from '../models/checkpoint.ts';
import { decodeOptimizers } from '../models/checkpoint-optimizer.ts';
import { globalRandomStream } from '../random/seeding.ts';
import { compareGuards, guardsFromRecord } from '../resume/guards.ts';
import { restoreOptimizers } from '../resume/optimizer-state.ts';
import { decodeResumeState, type Guards, RESUME_FILE } from '../resume/state.ts';
import { writeFileAtomic } from '../runs/atomic.ts';
import type { CheckpointPlan } from './checkpointing.ts';
import type { EpochRecord, LoopResume, LoopState } from './loop.ts';
import { ResumeRefusedError, type ResumeTarget, recordResume } from './run-folder.ts';

/**
 * For a resumed run, everything put back and where the loop continues; undefined for a fresh start.
 * A damaged file refuses the resume (exit 3, naming it) and leaves run.json as it was.
 */
export async function restoreForResume(plan: CheckpointPlan): Promise<LoopResume | undefined> {
  const target = plan.run.resume;
  if (!target) return undefined;
  try {
    return await restore(plan, target);
  } catch (err) {
    if (err instanceof IntegrityError) throw new ResumeRefusedError(`cannot resume ${target.id}: ${err.message}`);
    throw err;
  }
}

async function restore(plan: CheckpointPlan, target: ResumeTarget): Promise<LoopResume | undefined> {
  const last = join(target.dir, 'checkpoints', 'last');
  const statePath = join(last, RESUME_FILE);
  if (!existsSync(statePath)) {
    // Stopped before its first epoch was saved: it starts over, in its own folder.
    checkGuards(target, guardsFromRecord(target.record), plan.guards());
    startOver(target.dir);
    await recordResume(target, 0);
    return undefined;
  }
  const { weights } = readCheckpointWeights(last);
  try {
    const state = decodeResumeState(readFileSync(statePath, 'utf8'), statePath);
    checkGuards(target, state.guards, plan.guards());
    const history = await restoreHistory(target.dir, state.loop.epoch);
    await restoreBest(plan, state.loop, weights);
    plan.model.loadWeights(weights);
    plan.program.restoreState?.(state.program);
    await restoreOptimizers(plan.optimizers(), decodeOptimizers(last), state.optimizers);
    // Last, after everything that might draw from it while being rebuilt.
    if (state.mathRandom !== null) globalRandomStream()?.setState(state.mathRandom);
    await recordResume(target, state.loop.epoch);
    return { state: state.loop, history };
  } finally {
    tf.dispose(Object.values(weights));
  }
}

/** Refuses the resume when anything changed, unless forced (then the changes are recorded). */
function checkGuards(target: ResumeTarget, saved: Guards, now: Guards): void {
  const changed = compareGuards(saved, now);
  if (changed.length === 0) return;
  if (!target.force) {
    throw new ResumeRefusedError(
      `cannot resume ${target.id} exactly: ${changed.length === 1 ? 'this changed' : 'these changed'} since it was saved:\n` +
        `${changed.map((c) => `  - ${c}`).join('\n')}\n` +
        'Run with --force to continue anyway (run.json then records resumeExact: false).',
    );
  }
  target.changed.push(...changed);
}

function startOver(dir: string): void {
  rmSync(join(dir, 'metrics.jsonl'), { force: true });
  for (const c of ['best', 'last']) rmSync(join(dir, 'checkpoints', c), { recursive: true, force: true });
}

/**
 * The records of epochs 1..epoch from metrics.jsonl. Lines past the saved epoch (written just before
 * a kill) are dropped from the file, so the resumed run appends exactly where the saved one stood.
 */
async function restoreHistory(dir: string, epoch: number): Promise<EpochRecord[]> {
  const path = join(dir, 'metrics.jsonl');
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  const kept: string[] = [];
  for (const [i, line] of lines.entries()) {
    let record: EpochRecord;
    try {
      record = JSON.parse(line) as EpochRecord;
    } catch {
      if (i === lines.length - 1 && kept.length === epoch) break; // a torn last line past the saved epoch
      throw new IntegrityError(`${path} line ${i + 1} is damaged`, path);
    }
    if (record.epoch > epoch) break;
    if (record.epoch !== kept.length + 1) throw new IntegrityError(`${path} line ${i + 1} is out of order`, path);
    kept.push(line);
  }
  if (kept.length !== epoch) {
    throw new IntegrityError(
      `${path} has ${kept.length} epoch records; the last checkpoint is of epoch ${epoch}`,
      path,
    );
  }
  if (kept.length !== lines.length) await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
  return kept.map((l) => JSON.parse(l) as EpochRecord);
}

/**
 * The program's best-so-far copy: from best/ when it holds the best epoch; from last/ when the best
 * epoch is the last one and a kill came between writing last/ and best/ (best/ is rewritten then).
 */
async function restoreBest(plan: CheckpointPlan, loop: LoopState, lastWeights: tf.NamedTensorMap): Promise<void> {
  const bestDir = join(plan.run.dir, 'checkpoints', 'best');
  if (existsSync(join(bestDir, 'model.json'))) {
    const best = readCheckpointWeights(bestDir);
    try {
      if (best.metadata.epoch === loop.bestEpoch) {
        plan.model.loadWeights(best.weights);
        plan.program.captureBest();
        return;
      }
    } finally {
      tf.dispose(Object.values(best.weights));
    }
  }
  if (loop.bestEpoch !== loop.epoch) {
    throw new IntegrityError(
      `${bestDir} does not hold the best epoch (${loop.bestEpoch}) that the resume state names`,
      bestDir,
    );
  }
  plan.model.loadWeights(lastWeights);
  plan.program.captureBest();
  await saveCheckpoint(bestDir, plan.model, {
    preprocess: plan.preprocess,
    metadata: { ...plan.metadata, epoch: loop.bestEpoch },
  });
}
