// The one training loop shared by every trainer: epochs, LR schedule, timing, validation, best-epoch
// tracking and early stopping. What a step does is the program's business (single-task, multi-task…).
import type { EarlyStoppingConfig, MonitorName, ScheduleConfig } from '../config/types.ts';
import { tf } from '../engine/backend/tf.ts';
import { learningRateAt } from './schedule.ts';

/** Scalars a step produces; the loop accumulates them on the device and reads them rarely. */
export interface StepResult {
  /** Mean loss over the batch. */
  loss: tf.Scalar;
  /** Number of correct predictions in the batch (single task), or null. */
  correct: tf.Scalar | null;
  count: number;
}

export interface ValidationResult {
  /** What metrics.jsonl records under `val` (flat per task for single task; per task for multi-task). */
  metrics: Record<string, unknown>;
  /** The value of trainer.monitor. */
  monitor: number;
  /**
   * Lower-is-better value that decides exact ties of `monitor` (the validation loss when the monitor
   * is accuracy or macro-F1: on 6,000 examples accuracy moves in steps of 1/6000, so equal values are
   * common, and the epoch that fits the validation data better is the better checkpoint).
   */
  tieBreak?: number;
}

export interface LoopProgram {
  stepsPerEpoch: number;
  beginEpoch(epoch: number): void;
  /** One optimisation step at learning rate `lr`. Returned tensors are owned by the loop. */
  step(lr: number): StepResult;
  /** Validation metrics, or null when there is no validation split. */
  validate(): Promise<ValidationResult | null>;
  /** Keep a copy of the current weights as the best so far / put them back. */
  captureBest(): void;
  restoreBest(): void;
  /** Extra per-epoch fields for metrics.jsonl (task weights, gradient diagnostics…). */
  epochExtras?(): Record<string, unknown>;
}

export interface EpochRecord {
  epoch: number;
  /** Wall time of the training pass over the epoch's batches (validation excluded). */
  seconds: number;
  lr: number;
  train: { loss: number; accuracy?: number };
  val: Record<string, unknown> | null;
  [extra: string]: unknown;
}

export interface BatchInfo {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  accuracy: number | null;
  samples: number;
  elapsed: number;
}

export interface LoopCallbacks {
  onEpochBegin?(epoch: number, epochs: number, stepsPerEpoch: number): void;
  onBatchEnd?(info: BatchInfo): void;
  onEpochEnd?(record: EpochRecord, improved: boolean): Promise<void> | void;
}

export interface LoopOptions {
  epochs: number;
  baseLr: number;
  schedule: ScheduleConfig;
  monitor: MonitorName;
  earlyStopping: EarlyStoppingConfig;
  callbacks?: LoopCallbacks;
  /** How often (in steps) running loss/accuracy are read back for progress (default 10). */
  progressEvery?: number;
  /** Checked between steps; true ends training after the current step (SIGINT). */
  shouldStop?: () => boolean;
}

export interface LoopResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestMonitor: number | null;
  stoppedEarly: boolean;
  interrupted: boolean;
  epochSeconds: number[];
}

/** Steps between yields to the event loop (signals, progress redraws); ~0.1 ms each, negligible. */
const YIELD_EVERY = 25;

export function monitorMode(monitor: MonitorName): 'min' | 'max' {
  return monitor === 'val.loss' ? 'min' : 'max';
}

export async function runLoop(program: LoopProgram, options: LoopOptions): Promise<LoopResult> {
  const { epochs, callbacks = {} } = options;
  const mode = monitorMode(options.monitor);
  const history: EpochRecord[] = [];
  let best: number | null = null;
  let bestTie: number | undefined;
  let bestEpoch = 0;
  let sinceBest = 0;
  let globalStep = 0;
  let interrupted = false;
  let stoppedEarly = false;
  for (let epoch = 1; epoch <= epochs && !interrupted; epoch++) {
    callbacks.onEpochBegin?.(epoch, epochs, program.stepsPerEpoch);
    program.beginEpoch(epoch);
    const pass = await trainEpoch(program, options, epoch, globalStep);
    globalStep += pass.steps;
    interrupted = pass.interrupted;
    // A partial epoch (Ctrl-C) is neither recorded nor a candidate for the best checkpoint.
    if (interrupted) break;
    const val = await program.validate();
    const record: EpochRecord = {
      epoch,
      seconds: pass.seconds,
      lr: pass.lastLr,
      train: pass.train,
      val: val?.metrics ?? null,
      ...program.epochExtras?.(),
    };
    history.push(record);
    const score = val?.monitor ?? null;
    const improved =
      score === null ||
      best === null ||
      isBetter(score, best, mode, options.earlyStopping.minDelta) ||
      (score === best && winsTie(val?.tieBreak, bestTie));
    if (improved) {
      best = score;
      bestTie = val?.tieBreak;
      bestEpoch = epoch;
      sinceBest = 0;
      program.captureBest();
    } else sinceBest++;
    await callbacks.onEpochEnd?.(record, improved);
    const patience = options.earlyStopping.patience;
    if (patience !== null && sinceBest >= patience && epoch < epochs) {
      stoppedEarly = true;
      break;
    }
  }
  program.restoreBest();
  return {
    history,
    bestEpoch,
    bestMonitor: best,
    stoppedEarly,
    interrupted,
    epochSeconds: history.map((h) => h.seconds),
  };
}

function isBetter(score: number, best: number, mode: 'min' | 'max', minDelta: number): boolean {
  return mode === 'min' ? score < best - minDelta : score > best + minDelta;
}

/** An exact tie of the monitor goes to the lower tie-break value (when both epochs have one). */
function winsTie(tie: number | undefined, bestTie: number | undefined): boolean {
  return tie !== undefined && bestTie !== undefined && tie < bestTie;
}

interface EpochPass {
  seconds: number;
  steps: number;
  lastLr: number;
  train: { loss: number; accuracy?: number };
  interrupted: boolean;
}

/**
 * The timed training pass: running sums stay on the device; they are read every few steps only.
 * Every few steps it also yields to the event loop, so a Ctrl-C is noticed mid-epoch.
 */
async function trainEpoch(
  program: LoopProgram,
  options: LoopOptions,
  epoch: number,
  firstStep: number,
): Promise<EpochPass> {
  const every = options.progressEvery ?? 10;
  const ctx = { baseLr: options.baseLr, stepsPerEpoch: program.stepsPerEpoch, totalEpochs: options.epochs };
  let lossSum: tf.Scalar = tf.keep(tf.scalar(0));
  let correctSum: tf.Scalar | null = null;
  let samples = 0;
  let lr = options.baseLr;
  let steps = 0;
  let interrupted = false;
  const start = performance.now();
  for (let s = 0; s < program.stepsPerEpoch; s++) {
    lr = learningRateAt(firstStep + s, options.schedule, ctx);
    const out = program.step(lr);
    const nextLoss: tf.Scalar = tf.keep(tf.tidy(() => lossSum.add(out.loss.mul(out.count))));
    lossSum.dispose();
    lossSum = nextLoss;
    if (out.correct) {
      const prev: tf.Scalar | null = correctSum;
      correctSum = tf.keep(prev ? prev.add(out.correct) : out.correct.clone()) as tf.Scalar;
      prev?.dispose();
    }
    out.loss.dispose();
    out.correct?.dispose();
    samples += out.count;
    steps++;
    if (options.callbacks?.onBatchEnd && (steps % every === 0 || s === program.stepsPerEpoch - 1)) {
      options.callbacks.onBatchEnd(batchInfo(epoch, steps, program.stepsPerEpoch, lossSum, correctSum, samples, start));
    }
    if (steps % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    if (options.shouldStop?.()) {
      interrupted = true;
      break;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const loss = lossSum.dataSync()[0]! / Math.max(samples, 1);
  const accuracy = correctSum ? correctSum.dataSync()[0]! / Math.max(samples, 1) : undefined;
  lossSum.dispose();
  correctSum?.dispose();
  return { seconds, steps, lastLr: lr, train: accuracy === undefined ? { loss } : { loss, accuracy }, interrupted };
}

function batchInfo(
  epoch: number,
  step: number,
  stepsPerEpoch: number,
  lossSum: tf.Scalar,
  correctSum: tf.Scalar | null,
  samples: number,
  start: number,
): BatchInfo {
  return {
    epoch,
    step,
    stepsPerEpoch,
    samples,
    loss: lossSum.dataSync()[0]! / samples,
    accuracy: correctSum ? correctSum.dataSync()[0]! / samples : null,
    elapsed: (performance.now() - start) / 1000,
  };
}
