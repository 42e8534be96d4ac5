// Per-epoch multi-task records for metrics.jsonl: each task's training loss and accuracy (summed on
// the device, read once per epoch), the mean task weights, and for the gradient methods the mean
// per-task gradient norm, pairwise cosine similarity and how often each pair conflicted (cos < 0).
import { tf } from '../../engine/backend/tf.ts';
import type { StepOutcome } from './steps.ts';
import type { GradientSpace } from './weighting/index.ts';
import { taskPairs } from './weighting/vectors.ts';

export interface GradientRecord {
  space: GradientSpace;
  norms: Record<string, number>;
  /** Keyed `a/b` for the task pair (a, b). */
  cosine: Record<string, number>;
  conflictRate: Record<string, number>;
}

export interface MultiTaskEpochExtras {
  trainTasks: Record<string, { loss: number; accuracy: number }>;
  weights: Record<string, number> | null;
  gradients?: GradientRecord;
  [key: string]: unknown;
}

export class EpochStats {
  /** Epoch-average raw training losses of finished epochs (DWA reads them). */
  readonly history: number[][] = [];
  private lossSums: tf.Scalar[] = [];
  private correctSums: tf.Scalar[] = [];
  private counts: number[] = [];
  private weightSums: number[] = [];
  private weightSteps = 0;
  private normSums: number[] = [];
  private cosSums: number[] = [];
  private conflicts: number[] = [];
  private diagSteps = 0;

  constructor(
    private readonly tasks: string[],
    private readonly space: GradientSpace | null,
  ) {
    this.reset();
  }

  add(out: StepOutcome, sizes: number[]): void {
    this.tasks.forEach((_, t) => {
      this.lossSums[t] = accumulate(this.lossSums[t]!, out.losses[t]!, sizes[t]!);
      this.correctSums[t] = accumulate(this.correctSums[t]!, out.correct[t]!, 1);
      this.counts[t]! += sizes[t]!;
    });
    if (out.weights) {
      out.weights.forEach((w, t) => {
        this.weightSums[t]! += w;
      });
      this.weightSteps++;
    }
    if (out.diagnostics) {
      out.diagnostics.norms.forEach((n, t) => {
        this.normSums[t]! += n;
      });
      out.diagnostics.cosine.forEach((c, k) => {
        this.cosSums[k]! += c;
        if (c < 0) this.conflicts[k]! += 1;
      });
      this.diagSteps++;
    }
  }

  /** The epoch's extras; `learned` are end-of-epoch weights of methods that learn them. */
  finishEpoch(learned?: number[]): MultiTaskEpochExtras {
    const losses = this.lossSums.map((s, t) => s.dataSync()[0]! / Math.max(this.counts[t]!, 1));
    const accs = this.correctSums.map((s, t) => s.dataSync()[0]! / Math.max(this.counts[t]!, 1));
    this.history.push(losses);
    const byTask = <V>(f: (t: number) => V): Record<string, V> =>
      Object.fromEntries(this.tasks.map((n, t) => [n, f(t)]));
    const meanWeights = learned ?? (this.weightSteps > 0 ? this.weightSums.map((w) => w / this.weightSteps) : null);
    const extras: MultiTaskEpochExtras = {
      trainTasks: byTask((t) => ({ loss: losses[t]!, accuracy: accs[t]! })),
      weights: meanWeights ? byTask((t) => meanWeights[t]!) : null,
    };
    if (this.space && this.diagSteps > 0) extras.gradients = this.gradientRecord(this.space, byTask);
    this.reset();
    return extras;
  }

  private gradientRecord(space: GradientSpace, byTask: <V>(f: (t: number) => V) => Record<string, V>): GradientRecord {
    const pairs = taskPairs(this.tasks.length).map(([a, b]) => `${this.tasks[a]}/${this.tasks[b]}`);
    const n = this.diagSteps;
    return {
      space,
      norms: byTask((t) => this.normSums[t]! / n),
      cosine: Object.fromEntries(pairs.map((p, k) => [p, this.cosSums[k]! / n])),
      conflictRate: Object.fromEntries(pairs.map((p, k) => [p, this.conflicts[k]! / n])),
    };
  }

  private reset(): void {
    tf.dispose([...this.lossSums, ...this.correctSums]);
    const T = this.tasks.length;
    const P = (T * (T - 1)) / 2;
    this.lossSums = this.tasks.map(() => tf.keep(tf.scalar(0)));
    this.correctSums = this.tasks.map(() => tf.keep(tf.scalar(0)));
    this.counts = new Array<number>(T).fill(0);
    this.weightSums = new Array<number>(T).fill(0);
    this.weightSteps = 0;
    this.normSums = new Array<number>(T).fill(0);
    this.cosSums = new Array<number>(P).fill(0);
    this.conflicts = new Array<number>(P).fill(0);
    this.diagSteps = 0;
  }

  dispose(): void {
    tf.dispose([...this.lossSums, ...this.correctSums]);
    this.lossSums = [];
    this.correctSums = [];
  }
}

/** prev + scale·x as a kept tensor; the old sum is released, x stays the caller's. */
function accumulate(prev: tf.Scalar, x: tf.Scalar, scale: number): tf.Scalar {
  const next = tf.keep(tf.tidy(() => prev.add(x.mul(scale)))) as tf.Scalar;
  prev.dispose();
  return next;
}
