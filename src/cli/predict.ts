// `mtl predict <run> <input>…`: the run's checkpoint on new images or CSV rows; prints one prediction
// per input (or --json, or --out preds.csv), and accuracy where the inputs carry their labels.
import chalk from 'chalk';
import type { BackendName, FinetuneStrategy } from '../config/types.ts';
import { initBackend } from '../engine/backend/backend.ts';
import { InputError } from '../errors.ts';
import { type Prediction, type PredictResult, predictRun, type TaskPrediction } from '../predict/predict.ts';
import { predictionsCsv } from '../predict/write.ts';
import { writeFileAtomic } from '../runs/atomic.ts';
import { fmt, pct, printJson, say, table } from './output.ts';
import { resolveEvalRun } from './transfer.ts';

export interface PredictOptions {
  checkpoint: 'best' | 'last';
  top?: number;
  out?: string;
  json?: boolean;
  runsDir: string;
  backend: BackendName;
  strategy?: FinetuneStrategy;
}

/** Lines printed for people; the rest is in --json / --out. */
const MAX_PRINTED = 100;
/** Classes shown beside the prediction on a terminal line. */
const SHOWN_TOP = 3;

export async function predictCommand(ref: string, inputs: string[], options: PredictOptions): Promise<PredictResult> {
  const run = await resolveEvalRun(options.runsDir, ref, options.strategy);
  if (run.record.status !== 'completed' && options.checkpoint === 'best' && run.record.status !== 'interrupted')
    say(
      chalk.yellow(
        `run ${run.id} has status ${run.record.status}: predicting with its ${options.checkpoint} checkpoint`,
      ),
    );
  await initBackend(options.backend);
  const result = await predictRun({
    runId: run.id,
    runDir: run.dir,
    checkpoint: options.checkpoint,
    inputs,
    ...(options.top !== undefined ? { top: options.top } : {}),
  });
  if (options.out) {
    if (/\.(png|jpe?g)$/i.test(options.out)) throw new InputError(`--out ${options.out}: expected a .csv file name`);
    await writeFileAtomic(options.out, predictionsCsv(result.predictions, options.top));
  }
  if (options.json)
    printJson({
      runId: result.runId,
      checkpoint: result.checkpoint,
      predictions: result.predictions,
      accuracy: result.accuracy,
    });
  printPredictions(result, options);
  return result;
}

function cell(t: TaskPrediction, top: number): string {
  const ranked = Object.entries(t.probabilities).sort((a, b) => b[1] - a[1]);
  const others = ranked.filter(([c]) => c !== t.class).slice(0, top - 1);
  const rest = others.length ? chalk.dim(`  (${others.map(([c, p]) => `${c} ${fmt(p, 3)}`).join(', ')})`) : '';
  return `${t.class} ${fmt(t.probabilities[t.class] ?? Number.NaN, 3)}${rest}`;
}

function printPredictions(r: PredictResult, options: PredictOptions): void {
  const shown = r.predictions.slice(0, MAX_PRINTED);
  const top = options.top ?? SHOWN_TOP;
  const tasks = (p: Prediction): [string, TaskPrediction][] =>
    'tasks' in p ? Object.entries(p.tasks) : [['class', p]];
  const header = ['input', ...tasks(shown[0]!).map(([name]) => name)];
  say(
    table(
      header,
      shown.map((p) => [p.input, ...tasks(p).map(([, t]) => cell(t, top))]),
    ),
  );
  if (r.predictions.length > shown.length)
    say(chalk.dim(`… ${r.predictions.length - shown.length} more (all of them: --json or --out preds.csv)`));
  for (const [task, a] of Object.entries(r.accuracy))
    say(
      `${chalk.bold('accuracy')}${task === 'label' ? '' : ` ${task}`}: ${pct(a.accuracy)} on ${a.examples} labelled inputs`,
    );
  say(
    chalk.dim(
      `${r.predictions.length} predictions, run ${r.runId} (${r.checkpoint} checkpoint)${options.out ? `; written: ${options.out}` : ''}`,
    ),
  );
}
