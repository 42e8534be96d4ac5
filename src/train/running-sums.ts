// The training loop's running sums of an epoch (loss × batch size after every step, correct
// predictions): float32, as tensor ops add them, on the host or on the device by backend.
import { tf } from '../engine/backend/tf.ts';
import type { StepResult } from './loop.ts';

/** Backends whose tensors live in JavaScript's or wasm's memory: reading a scalar is a copy, not a wait. */
const HOST_MEMORY_BACKENDS = ['wasm', 'cpu'];

/**
 * An epoch's running sums of loss × batch size (after every step: the first non-finite one is found
 * exactly) and of correct predictions, in float32 as tensor ops would add them.
 */
export interface RunningSums {
  /** Steps added so far. */
  readonly steps: number;
  /** Adds a step's results and disposes of its tensors. */
  add(out: StepResult): void;
  /** The loss sum after `step` steps (0 for none). */
  loss(step: number): number;
  /** The correct predictions so far, or null when the steps report none. */
  correct(): number | null;
  dispose(): void;
}

/**
 * Where the sums live follows the backend. Where tensors sit in JavaScript's or wasm's memory (wasm,
 * cpu) a step's two scalars are read at once and added in JavaScript with Math.fround (float32
 * rounding: the same bits as the tensor ops): 5–7 µs per step against 27–66 for the tensor ops
 * (measured on wasm), where the MLP's whole step is ~0.85 ms. Elsewhere (tfjs-node, which may hold
 * them on a GPU, webgl, webgpu) they stay on the device, summed by tensor ops, and are read rarely:
 * a read per step would wait for the device every step.
 */
export function runningSums(backend = tf.getBackend()): RunningSums {
  return HOST_MEMORY_BACKENDS.includes(backend) ? new HostSums() : new DeviceSums();
}

export class HostSums implements RunningSums {
  private readonly sums = [0];
  private correctSum: number | null = null;
  get steps(): number {
    return this.sums.length - 1;
  }
  add(out: StepResult): void {
    const loss = out.loss.dataSync()[0]!;
    const prev = this.sums[this.sums.length - 1]!;
    this.sums.push(Math.fround(prev + Math.fround(loss * Math.fround(out.count))));
    if (out.correct) {
      const correct = out.correct.dataSync()[0]!;
      this.correctSum = this.correctSum === null ? correct : Math.fround(this.correctSum + correct);
    }
    out.loss.dispose();
    out.correct?.dispose();
  }
  loss(step: number): number {
    return this.sums[step]!;
  }
  correct(): number | null {
    return this.correctSum;
  }
  dispose(): void {}
}

export class DeviceSums implements RunningSums {
  private readonly sums: tf.Scalar[] = [tf.keep(tf.scalar(0))];
  private correctSum: tf.Scalar | null = null;
  get steps(): number {
    return this.sums.length - 1;
  }
  add(out: StepResult): void {
    const prev = this.sums[this.sums.length - 1]!;
    this.sums.push(tf.keep(tf.tidy(() => prev.add(out.loss.mul(out.count)))));
    if (out.correct) {
      const before: tf.Scalar | null = this.correctSum;
      this.correctSum = tf.keep(before ? before.add(out.correct) : out.correct.clone()) as tf.Scalar;
      before?.dispose();
    }
    out.loss.dispose();
    out.correct?.dispose();
  }
  loss(step: number): number {
    return this.sums[step]!.dataSync()[0]!;
  }
  correct(): number | null {
    return this.correctSum ? this.correctSum.dataSync()[0]! : null;
  }
  dispose(): void {
    tf.dispose(this.sums);
    this.correctSum?.dispose();
  }
}
