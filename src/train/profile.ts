// MTL_PROFILE=<file.json>: a per-kernel profile of real training steps (docs/design.md, Kernels). Steps
// PROFILE_SKIP+1 … PROFILE_SKIP+MTL_PROFILE_STEPS of the first epoch run under tf.profile; each kernel's
// calls and milliseconds are summed, and the step's wall time beyond its kernels is reported as
// dispatch (tape, tidy, tensor bookkeeping, JS around the kernels). The numbers of the run are unchanged:
// profiling only times what the step does anyway. bench/RESULTS.md's breakdowns come from here.
import { writeFileSync } from 'node:fs';
import { tf } from '../engine/backend/tf.ts';

/** Steps left unprofiled first (warm-up: kernel compilation, memory growth, lazy optimizer slots). */
const PROFILE_SKIP = 5;
const DEFAULT_STEPS = 20;

export interface StepProfile {
  steps: number;
  /** Mean wall milliseconds per step, and the part spent inside kernels. */
  stepMs: number;
  kernelMs: number;
  dispatchMs: number;
  kernelsPerStep: number;
  /** Per kernel name, per step: calls and milliseconds, largest first. */
  kernels: { name: string; calls: number; ms: number; share: number }[];
  /** The same per kernel name and input shapes. */
  calls: { name: string; calls: number; ms: number; share: number }[];
}

export class StepProfiler {
  private readonly totals = new Map<string, { calls: number; ms: number }>();
  private steps = 0;
  private wallMs = 0;
  constructor(
    private readonly file: string,
    private readonly wanted: number,
  ) {}

  /** From MTL_PROFILE / MTL_PROFILE_STEPS, or null when profiling is off. */
  static fromEnv(): StepProfiler | null {
    const file = process.env.MTL_PROFILE;
    if (!file) return null;
    const steps = Number(process.env.MTL_PROFILE_STEPS ?? DEFAULT_STEPS);
    return new StepProfiler(file, Number.isInteger(steps) && steps > 0 ? steps : DEFAULT_STEPS);
  }

  /** Whether step `s` (0-based, first epoch) is one to profile. */
  wants(epochIndex: number, s: number): boolean {
    return epochIndex === 0 && s >= PROFILE_SKIP && this.steps < this.wanted;
  }

  /** Runs one step under tf.profile; the step's tensors are returned as the step made them. */
  async profile<T>(step: () => T): Promise<T> {
    let out: T | undefined;
    const t0 = performance.now();
    const info = await tf.profile(() => {
      out = step();
      return [] as tf.Tensor[];
    });
    this.wallMs += performance.now() - t0;
    this.steps++;
    for (const k of info.kernels) {
      // By kernel and input shapes: a network's two convolutions are different problems.
      const key = `${k.name} ${k.inputShapes.map((sh) => `[${sh?.join(',') ?? ''}]`).join(' ')}`;
      const entry = this.totals.get(key) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      this.totals.set(key, entry);
    }
    if (this.steps === this.wanted) this.write();
    return out as T;
  }

  summary(): StepProfile {
    const n = Math.max(this.steps, 1);
    // `<name>__op` entries are tfjs ops with a custom gradient wrapped around kernels that tf.profile
    // lists too: listed, but not added to the kernel time twice.
    const kernelMs = [...this.totals].filter(([key]) => !isWrapper(key)).reduce((s, [, k]) => s + k.ms, 0) / n;
    const stepMs = this.wallMs / n;
    const rows = (m: Map<string, { calls: number; ms: number }>) =>
      [...m.entries()]
        .map(([name, k]) => ({ name, calls: k.calls / n, ms: k.ms / n, share: k.ms / n / stepMs }))
        .sort((a, b) => b.ms - a.ms);
    const byName = new Map<string, { calls: number; ms: number }>();
    for (const [key, k] of this.totals) {
      const name = key.split(' ')[0]!;
      const e = byName.get(name) ?? { calls: 0, ms: 0 };
      byName.set(name, { calls: e.calls + k.calls, ms: e.ms + k.ms });
    }
    const kernels = rows(byName);
    const kernelsPerStep = kernels.filter((k) => !isWrapper(k.name)).reduce((s, k) => s + k.calls, 0);
    const calls = rows(this.totals);
    return { steps: this.steps, stepMs, kernelMs, dispatchMs: stepMs - kernelMs, kernelsPerStep, kernels, calls };
  }

  private write(): void {
    const p = this.summary();
    writeFileSync(this.file, `${JSON.stringify({ backend: tf.getBackend(), ...p }, null, 2)}\n`);
    const lines = [
      `profile of ${p.steps} steps: ${p.stepMs.toFixed(2)} ms/step, kernels ${p.kernelMs.toFixed(2)} ms ` +
        `(${p.kernelsPerStep.toFixed(0)} calls), outside kernels ${p.dispatchMs.toFixed(2)} ms → ${this.file}`,
      ...p.calls
        .slice(0, 20)
        .map((k) => `  ${k.ms.toFixed(2).padStart(7)} ms ${k.calls.toFixed(1).padStart(5)}×  ${k.name}`),
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}

function isWrapper(key: string): boolean {
  return key.split(' ')[0]!.endsWith('__op');
}
