// Multi-task data on the device: one tensor of inputs per input group, labels per task, and the
// batch sampler (single-input: one batch feeds every task; multi-input: a batch per group each
// step, an epoch covering the longest group while shorter ones cycle).
import type { MultiTaskData } from '../../data/multi-prepare.ts';
import { tf } from '../../engine/backend/tf.ts';
import { permutation, type Rng } from '../../random/rng.ts';
import { featuresToDevice } from '../device-data.ts';

export interface DeviceGroup {
  x: tf.Tensor;
  n: number;
}

export interface DeviceTaskSplit {
  /** Per input group. */
  groups: DeviceGroup[];
  /** Per task (int32 labels of its group's examples). */
  labels: tf.Tensor1D[];
}

export type SplitName = 'train' | 'val' | 'test';

export function taskSplitToDevice(data: MultiTaskData, split: SplitName, inputShape: number[]): DeviceTaskSplit {
  return {
    groups: data.groups.map((g) => ({
      x: featuresToDevice(g[split], inputShape),
      n: g[split].n,
    })),
    labels: data.tasks.map((t) => tf.tensor1d(t.labels[split], 'int32')),
  };
}

export function disposeTaskSplit(split: DeviceTaskSplit | null): void {
  if (!split) return;
  tf.dispose([...split.groups.map((g) => g.x), ...split.labels]);
}

/** Index batches per group; an epoch is ⌈max n / batch⌉ steps, shorter groups reshuffle when spent. */
export class BatchSampler {
  readonly stepsPerEpoch: number;
  private orders: Int32Array<ArrayBuffer>[] = [];
  private cursors: number[] = [];

  constructor(
    private readonly sizes: number[],
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.stepsPerEpoch = Math.ceil(Math.max(...sizes) / batchSize);
  }

  beginEpoch(): void {
    this.orders = this.sizes.map((n) => permutation(n, this.rng));
    this.cursors = this.sizes.map(() => 0);
  }

  /** The next batch of indices of every group. */
  next(): Int32Array[] {
    return this.sizes.map((n, g) => {
      if (this.cursors[g]! >= n) {
        this.orders[g] = permutation(n, this.rng);
        this.cursors[g] = 0;
      }
      const start = this.cursors[g]!;
      const idx = this.orders[g]!.subarray(start, Math.min(start + this.batchSize, n));
      this.cursors[g] = start + idx.length;
      return idx;
    });
  }
}

/** Probabilities of every task on its own group's examples, inference mode, in batches. */
export function predictTasks(
  model: tf.LayersModel,
  split: DeviceTaskSplit,
  taskGroups: number[],
  batchSize = 1000,
): Float32Array[] {
  const out: Float32Array[] = taskGroups.map(() => new Float32Array(0));
  split.groups.forEach((group, g) => {
    const mine = taskGroups.map((tg, t) => (tg === g ? t : -1)).filter((t) => t >= 0);
    const parts: Float32Array[][] = mine.map(() => []);
    for (let start = 0; start < group.n; start += batchSize) {
      const size = Math.min(batchSize, group.n - start);
      const probs = tf.tidy(() => {
        // One predict call per chunk (predict's own default batch of 32 would split it into many calls).
        const res = model.predict(group.x.slice(start, size), { batchSize: size });
        return Array.isArray(res) ? res : [res];
      });
      mine.forEach((t, k) => {
        parts[k]!.push(probs[t]!.dataSync() as Float32Array);
      });
      tf.dispose(probs);
    }
    mine.forEach((t, k) => {
      out[t] = concatFloat(parts[k]!);
    });
  });
  return out;
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
