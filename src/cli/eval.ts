// `mtl eval <run>`: re-evaluate a saved checkpoint and write eval/<timestamp>.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import chalk from 'chalk';
import type { BackendName, FinetuneStrategy } from '../config/types.ts';
import { initBackend } from '../engine/backend/backend.ts';
import { InputError } from '../errors.ts';
import { writeJsonAtomic } from '../runs/atomic.ts';
import { nextEvalPath } from '../runs/resolve.ts';
import { type CheckpointName, type EvalSplit, evaluateRun } from '../train/single/evaluate.ts';
import { fmt, pct, printJson, say, table } from './output.ts';
import { resolveEvalRun } from './transfer.ts';

export interface EvalOptions {
  dataset?: string;
  split: EvalSplit;
  checkpoint: CheckpointName;
  runsDir: string;
  backend: BackendName;
  json?: boolean;
  /** Transfer runs: evaluate this strategy's child (default: the best fine-tuned child by validation). */
  strategy?: FinetuneStrategy;
}

export async function evalCommand(ref: string, options: EvalOptions): Promise<void> {
  const run = await resolveEvalRun(options.runsDir, ref, options.strategy);
  if (!existsSync(join(run.dir, 'checkpoints', options.checkpoint, 'model.json'))) {
    throw new InputError(
      `run ${run.id} (status ${run.record.status}) has no '${options.checkpoint}' checkpoint to evaluate`,
    );
  }
  await initBackend(options.backend);
  const result = await evaluateRun({
    runId: run.id,
    runDir: run.dir,
    checkpoint: options.checkpoint,
    split: options.split,
    ...(options.dataset ? { dataset: options.dataset } : {}),
  });
  const doc = {
    runId: result.runId,
    checkpoint: result.checkpoint,
    dataset: result.dataset,
    split: result.split,
    metrics: result.metrics,
  };
  const path = await nextEvalPath(run.dir);
  const { classNames, roc } = result.detail;
  await writeJsonAtomic(path, {
    ...doc,
    evaluatedAt: new Date().toISOString(),
    examples: result.examples,
    classNames,
    roc,
  });
  if (options.json) printJson(doc);
  const m = result.metrics;
  say(
    table(
      ['run', 'checkpoint', 'dataset', 'split', 'examples', 'loss', 'accuracy', 'macro-F1', 'AUC-ROC'],
      [
        [
          run.id,
          result.checkpoint,
          result.dataset,
          result.split,
          String(result.examples),
          fmt(m.loss),
          pct(m.accuracy),
          fmt(m.macroF1),
          fmt(m.aucRoc),
        ],
      ],
    ),
  );
  say(chalk.dim(`written: ${path}`));
}
