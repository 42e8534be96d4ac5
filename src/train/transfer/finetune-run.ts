// trainer.mode finetune as a run: resolve init.from to a checkpoint, then either train with the
// strategy's freeze plan or, for zero-shot, evaluate the source model on the target as it is.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../config/types.ts';
import { applyPreprocess } from '../../data/normalize.ts';
import { imageOptionsOf, ownDataOptions } from '../../data/own-options.ts';
import { loadRawDataset } from '../../data/registry.ts';
import { backendRecord } from '../../engine/backend/backend.ts';
import { InputError } from '../../errors.ts';
import { classificationReport } from '../../metrics/report.ts';
import { loadCheckpoint, saveCheckpoint, verifyCheckpoint } from '../../models/checkpoint.ts';
import { listRuns, resolveRun } from '../../runs/resolve.ts';
import { writeTestReport } from '../../runs/test-report.ts';
import { disposeSplit, toDevice } from '../device-data.ts';
import { predictProbs } from '../single/classifier.ts';
import { type RunContext, runInConfigRunFolder, runSingleTask } from '../single/experiment.ts';
import { epochSecondsSummary, peakRssMB, pickTestMetrics, type RunSummary } from '../summary.ts';
import { finetuneSetup } from './finetune.ts';
import { strategy } from './strategies/index.ts';

export interface SourceCheckpoint {
  /** The checkpoint folder (model.json + weights.bin + preprocess.json). */
  dir: string;
  /** The run it belongs to; null for a bare checkpoint folder. */
  runId: string | null;
}

/**
 * init.from → checkpoint: a checkpoint folder as is; a run name → its newest completed run; else a
 * run id, unique prefix, run folder or `latest` (mtl eval's rules). A run gives its best checkpoint.
 */
export async function resolveInitFrom(ref: string, runsDir: string): Promise<SourceCheckpoint> {
  if (existsSync(join(ref, 'model.json'))) {
    verifyCheckpoint(ref);
    return { dir: resolve(ref), runId: null };
  }
  const named = (await listRuns(runsDir)).find((r) => r.record.name === ref && r.record.status === 'completed');
  const run = named ?? (await resolveRun(runsDir, ref));
  const dir = join(run.dir, 'checkpoints', 'best');
  if (!existsSync(join(dir, 'model.json'))) {
    throw new InputError(`init.from '${ref}': run ${run.id} (status ${run.record.status}) has no best checkpoint`);
  }
  // Checked before a run folder is made: a damaged source fails at once, naming the file.
  verifyCheckpoint(dir);
  return { dir, runId: run.id };
}

/** A trainer.mode finetune run (`mtl train`, and each child of `mtl transfer`). */
export async function runFinetune(config: ResolvedConfig, ctx: RunContext): Promise<RunSummary> {
  const source = config.init.from === null ? null : await resolveInitFrom(config.init.from, ctx.runsDir);
  const runCtx: RunContext = { ...ctx, kind: 'finetune', parentRunId: ctx.parentRunId ?? source?.runId ?? null };
  if (strategy(config.finetune.strategy).evaluateOnly) return runZeroShot(config, runCtx, source!.dir);
  return runSingleTask(config, runCtx, finetuneSetup(source?.dir ?? null));
}

/**
 * The source model, head included, on the target's test split with no target training. Inputs get
 * the SOURCE checkpoint's preprocess.json: the model is used exactly as shipped, and no statistic of
 * the target data is used (standardizing with target statistics would already be adaptation).
 * Its best checkpoint is the source model with that preprocess, so `mtl eval` reproduces it.
 */
export async function runZeroShot(config: ResolvedConfig, ctx: RunContext, sourceDir: string): Promise<RunSummary> {
  return runInConfigRunFolder(config, ctx, async (run) => {
    const ckpt = await loadCheckpoint(sourceDir);
    try {
      // The target's images at the source model's size and channels: the model is used as shipped.
      const own = { ...ownDataOptions(config.data, [config.data.label]), ...imageOptionsOf(ckpt.preprocess) };
      const raw = await loadRawDataset(config.data.dataset, { own });
      const outputs = ckpt.model.outputs[0]!.shape[1] as number;
      if (outputs !== raw.numClasses) {
        throw new InputError(
          `zero-shot: the source model predicts ${outputs} classes, '${config.data.dataset}' has ${raw.numClasses}`,
        );
      }
      const x = toDevice(
        { x: applyPreprocess(ckpt.preprocess, raw.test.x, raw.test.n), y: raw.test.y, n: raw.test.n },
        ckpt.preprocess.inputShape,
      );
      const probs = predictProbs(ckpt.model, x.x);
      const test = classificationReport(raw.test.y, probs, raw.numClasses);
      const { spec: dataset, classNames } = raw;
      await writeTestReport(run.dir, 0, { dataset, classNames, yTrue: raw.test.y, probs, report: test });
      disposeSplit(x);
      await saveCheckpoint(join(run.dir, 'checkpoints', 'best'), ckpt.model, {
        preprocess: ckpt.preprocess,
        metadata: { classNames: raw.classNames, dataset: raw.spec, runId: run.id, epoch: 0, zeroShotFrom: sourceDir },
      });
      const totalSeconds = Math.round(performance.now() - run.started) / 1000;
      return {
        runId: run.id,
        runDir: run.dir,
        kind: run.kind,
        status: 'completed',
        backend: backendRecord(ctx.backend),
        seed: config.seed,
        epochs: 0,
        bestEpoch: 0,
        val: null,
        test: pickTestMetrics(test),
        timing: { totalSeconds, epochSeconds: epochSecondsSummary([]), samplesPerSecond: 0 },
        memory: { peakRssMB: peakRssMB() },
        data: { dataset: raw.spec, train: 0, val: 0, test: raw.test.n, numClasses: raw.numClasses },
      };
    } finally {
      ckpt.model.dispose();
    }
  });
}
