// The one training loop shared by every trainer: epochs, LR schedule, timing, validation, best-epoch
// tracking and early stopping. What a step does is the program's business (single-task, multi-task…).
import type { EarlyStoppingConfig, MonitorName, ScheduleConfig } from '../config/types.ts';
import type { tf } from '../engine/backend/tf.ts';
import { NonFiniteLossError } from '../errors.ts';
import { StepProfiler } from './profile.ts';
import { type RunningSums, runningSums } from './running-sums.ts';
import { learningRateAt } from './schedule.ts';

/** Scalars a step produces; the loop sums them (RunningSums: per step on host-memory backends, on the device elsewhere). */
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
  /**
   * Everything besides weights and optimizer state that decides the program's future (its random
   * streams, learned loss weights, loss history…), as JSON, saved with last/ at each epoch end.
   */
  saveState?(): ProgramState;
  /** Puts back what saveState returned, so a resumed run continues exactly (train/restore.ts). */
  restoreState?(state: ProgramState): void;
}

export type ProgramState = Record<string, unknown>;

/** Where the loop stands after a completed epoch: all a resumed run needs to continue it. */
export interface LoopState {
  /** Epochs completed. */
  epoch: number;
  /** Optimisation steps taken (the LR schedule reads it). */
  globalStep: number;
  /** Monitor value of the best epoch (null without validation). */
  best: number | null;
  /** Its tie-break value (null when none). */
  bestTie: number | null;
  bestEpoch: number;
  /** Epochs since the best one (early stopping's counter). */
  sinceBest: number;
  /** Early stopping fired at this epoch: nothing is left to train. */
  stoppedEarly: boolean;
}

/** A resumed run's starting point: the state saved with last/ and the epochs recorded so far. */
export interface LoopResume {
  state: LoopState;
  history: EpochRecord[];
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
  /** `state` is where the loop stands after this epoch (what last/ saves for a resume). */
  onEpochEnd?(record: EpochRecord, improved: boolean, state: LoopState): Promise<void> | void;
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
  /** Continue a run from its last completed epoch instead of starting at epoch 1. */
  resume?: LoopResume;
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
  const state: LoopState = options.resume ? { ...options.resume.state } : initialState();
  const history: EpochRecord[] = [...(options.resume?.history ?? [])];
  let interrupted = false;
  for (let epoch = state.epoch + 1; epoch <= epochs && !state.stoppedEarly; epoch++) {
    callbacks.onEpochBegin?.(epoch, epochs, program.stepsPerEpoch);
    program.beginEpoch(epoch);
    const pass = await trainEpoch(program, options, epoch, state.globalStep);
    // A partial epoch (Ctrl-C) is neither recorded nor a candidate for the best checkpoint.
    if (pass.interrupted) {
      interrupted = true;
      break;
    }
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
    state.epoch = epoch;
    state.globalStep += pass.steps;
    const improved = updateBest(state, val, options);
    if (improved) program.captureBest();
    const patience = options.earlyStopping.patience;
    state.stoppedEarly = patience !== null && state.sinceBest >= patience && epoch < epochs;
    await callbacks.onEpochEnd?.(record, improved, { ...state });
  }
  program.restoreBest();
  return {
    history,
    bestEpoch: state.bestEpoch,
    bestMonitor: state.best,
    stoppedEarly: state.stoppedEarly,
    interrupted,
    epochSeconds: history.map((h) => h.seconds),
  };
}

function initialState(): LoopState {
  return { epoch: 0, globalStep: 0, best: null, bestTie: null, bestEpoch: 0, sinceBest: 0, stoppedEarly: false };
}

/** Updates the best-epoch fields of `s` with this epoch's validation; true when it is the new best. */
function updateBest(s: LoopState, val: ValidationResult | null, o: LoopOptions): boolean {
  const score = val?.monitor ?? null;
  const tie = val?.tieBreak ?? null;
  const improved =
    score === null ||
    s.best === null ||
    isBetter(score, s.best, monitorMode(o.monitor), o.earlyStopping.minDelta) ||
    (score === s.best && winsTie(tie, s.bestTie));
  if (improved) {
    s.best = score;
    s.bestTie = tie;
    s.bestEpoch = s.epoch;
    s.sinceBest = 0;
  } else s.sinceBest++;
  return improved;
}

function isBetter(score: number, best: number, mode: 'min' | 'max', minDelta: number): boolean {
  return mode === 'min' ? score < best - minDelta : score > best + minDelta;
}

/** An exact tie of the monitor goes to the lower tie-break value (when both epochs have one). */
function winsTie(tie: number | null, bestTie: number | null): boolean {
  return tie !== null && bestTie !== null && tie < bestTie;
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
 *
 * NaN guard at no extra cost: each step's running loss sum is kept (not disposed) until the epoch
 * ends. A NaN or infinite term makes every later sum non-finite, so the reads that happen anyway (the
 * progress read every `progressEvery` steps, the one at the epoch's end) see it, and a search over
 * the kept sums, only then, finds the first step that went non-finite. No kernel and no device read
 * is added per step.
 */
async function trainEpoch(
  program: LoopProgram,
  options: LoopOptions,
  epoch: number,
  firstStep: number,
): Promise<EpochPass> {
  const every = options.progressEvery ?? 10;
  const ctx = { baseLr: options.baseLr, stepsPerEpoch: program.stepsPerEpoch, totalEpochs: options.epochs };
  const sums = runningSums();
  let samples = 0;
  let lr = options.baseLr;
  let interrupted = false;
  const profiler = epoch === 1 ? StepProfiler.fromEnv() : null;
  const start = performance.now();
  try {
    for (let s = 0; s < program.stepsPerEpoch; s++) {
      lr = learningRateAt(firstStep + s, options.schedule, ctx);
      const stepLr = lr;
      const out = profiler?.wants(0, s) ? await profiler.profile(() => program.step(stepLr)) : program.step(lr);
      sums.add(out);
      samples += out.count;
      const steps = s + 1;
      if (options.callbacks?.onBatchEnd && (steps % every === 0 || steps === program.stepsPerEpoch)) {
        const info = batchInfo(epoch, steps, program.stepsPerEpoch, sums, samples, start);
        if (!Number.isFinite(info.loss)) break; // reported below, with the exact step
        options.callbacks.onBatchEnd(info);
      }
      if (steps % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      if (options.shouldStop?.()) {
        interrupted = true;
        break;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const total = sums.loss(sums.steps);
    if (!Number.isFinite(total)) throw nonFiniteLoss(sums, epoch);
    const loss = total / Math.max(samples, 1);
    const correct = sums.correct();
    const train = correct === null ? { loss } : { loss, accuracy: correct / Math.max(samples, 1) };
    return { seconds, steps: sums.steps, lastLr: lr, train, interrupted };
  } finally {
    sums.dispose();
  }
}

/** The error for the first step whose loss was not finite (sums.loss(k): the running sum after step k). */
function nonFiniteLoss(sums: RunningSums, epoch: number): NonFiniteLossError {
  let lo = 0; // sums.loss(lo) is finite (0 after no step)
  let hi = sums.steps; // sums.loss(hi) is not
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (Number.isFinite(sums.loss(mid))) lo = mid;
    else hi = mid;
  }
  return new NonFiniteLossError(Number.isNaN(sums.loss(hi)) ? 'NaN' : 'infinite', epoch, hi);
}

function batchInfo(
  epoch: number,
  step: number,
  stepsPerEpoch: number,
  sums: RunningSums,
  samples: number,
  start: number,
): BatchInfo {
  const correct = sums.correct();
  return {
    epoch,
    step,
    stepsPerEpoch,
    samples,
    loss: sums.loss(sums.steps) / samples,
    accuracy: correct === null ? null : correct / samples,
    elapsed: (performance.now() - start) / 1000,
  };
}
