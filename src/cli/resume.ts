// `mtl resume <run>` (also `mtl train --resume <run>`): continue an interrupted, crashed or failed
// run from its last completed epoch, with the same epoch lines and summary as the command that
// started it; the finished run equals an uninterrupted one bit for bit (see README "When things go wrong").
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import chalk from 'chalk';
import { loadConfig } from '../config/load.ts';
import type { BackendName } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { resumeRun } from '../resume/resume-run.ts';
import { peekSavedEpoch } from '../resume/state.ts';
import { resolveRun } from '../runs/resolve.ts';
import { hashConfig } from '../runs/run-record.ts';
import type { MultiTaskSummary } from '../train/multitask/summary.ts';
import type { RunSummary } from '../train/summary.ts';
import type { TransferSummary } from '../train/transfer/report.ts';
import { createMultitaskProgress, printMultitaskSummary } from './multitask.ts';
import { printJson, say } from './output.ts';
import { createProgress } from './progress.ts';
import { interruptFlag } from './signals.ts';
import { printSummary } from './train.ts';
import { describeEvent, printTransferSummary } from './transfer.ts';

export interface ResumeCliOptions {
  runsDir: string;
  force?: boolean;
  backend?: BackendName;
  requireGpu?: boolean;
  json?: boolean;
}

export async function resumeCommand(ref: string, options: ResumeCliOptions): Promise<void> {
  const outcome = await resumeRun(
    {
      ref,
      runsDir: options.runsDir,
      force: options.force ?? false,
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.requireGpu ? { requireGpu: true } : {}),
    },
    {
      progress: (kind) => (kind === 'multitask' ? createMultitaskProgress('multitask') : createProgress()),
      transfer: { progress: (label) => createProgress({ label }), onEvent: describeEvent },
      shouldStop: interruptFlag.isSet,
      onStart: (run, status, backend, reason) => {
        const epoch = peekSavedEpoch(run.dir);
        const from = epoch === null ? 'from the start (no epoch was saved)' : `after epoch ${epoch}`;
        say(
          chalk.dim(`mtl resume ${run.id}  (${run.record.kind}, ${status}${reason ? `: ${reason}` : ''})  `) +
            chalk.dim(`backend ${backend.name}${backend.gpu ? ' (GPU)' : ''}`),
        );
        if (run.record.kind !== 'transfer') say(chalk.dim(`continuing ${from}`));
        const sweep = parentSweep(run.dir, run.record.parentRunId);
        if (sweep)
          say(chalk.dim(`a trial of sweep ${sweep}: \`mtl sweep resume ${sweep}\` goes on with the whole sweep`));
      },
    },
  );
  if (outcome.state === 'completed-before') {
    say(`run ${outcome.run.id} completed at ${outcome.run.record.endedAt}: nothing to resume`);
    if (options.json) printJson(readSummary(outcome.run.dir) ?? outcome.run.record);
    return;
  }
  const s = outcome.summary;
  if (options.json) printJson(s);
  if (s.kind === 'transfer') printTransferSummary(s as TransferSummary);
  else if (s.kind === 'multitask') printMultitaskSummary(s as MultiTaskSummary);
  else printSummary(s as RunSummary);
}

function readSummary(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Flags of `mtl train` that would change a run: `--resume` continues the run's own config instead. */
const CONFIG_FLAGS = ['set', 'epochs', 'seed', 'limit', 'name', 'baselines', 'seeds'] as const;

/** `mtl train [config] --resume <run>`: a config given along must resolve to the run's own. */
export async function trainResumeCommand(
  file: string | undefined,
  options: ResumeCliOptions & { resume: string } & Partial<Record<(typeof CONFIG_FLAGS)[number], unknown>>,
): Promise<void> {
  const given = CONFIG_FLAGS.filter((f) => options[f] !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      `--resume continues the run with its own config; ${given.map((f) => `--${f}`).join(', ')} cannot change it`,
    );
  }
  if (file !== undefined) {
    const run = await resolveRun(options.runsDir, options.resume);
    const hash = hashConfig(loadConfig(file).config);
    if (hash !== run.record.configHash) {
      throw new UsageError(
        `${file} is not the config of run ${run.id} (config hash ${hash}, the run's ${run.record.configHash}): ` +
          'drop it to resume the run with its own config.yaml, or train it as a new run without --resume',
      );
    }
  }
  await resumeCommand(options.resume, options);
}

/** The id of the sweep a run is a trial of (its parent, beside it, of kind sweep), or null. */
function parentSweep(runDir: string, parentRunId: string | null | undefined): string | null {
  if (!parentRunId) return null;
  try {
    const parent = JSON.parse(readFileSync(join(dirname(runDir), parentRunId, 'run.json'), 'utf8')) as {
      kind?: string;
    };
    return parent.kind === 'sweep' ? parentRunId : null;
  } catch {
    return null;
  }
}
