// Follows a trial's metrics.jsonl while it trains: every new epoch is kept (the metric history a
// job's result carries) and, with early termination, reported to the pruner, which may stop it.
import { open } from 'node:fs/promises';
import { epochMetric, isBetter, type MetricRef, parseMetric } from './metric.ts';
import { decide, type RungStore } from './pruning.ts';
import type { TrialTask } from './trial.ts';
import type { PruneDecision } from './types.ts';

/** How often metrics.jsonl is read for new epochs (an MNIST MLP epoch takes ~0.7 s here). */
const POLL_MS = 200;

export interface Follower {
  /** Stops following after a last read; returns every record seen (the metric history). */
  stop(): Promise<Record<string, unknown>[]>;
}

export interface FollowOptions {
  store: RungStore;
  onDecision?(d: PruneDecision): void;
}

export function followMetrics(
  path: string,
  task: TrialTask,
  o: FollowOptions,
  prune: (d: PruneDecision) => void,
): Follower {
  const reader = new MetricsReader(path, task, o, prune);
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(() => reader.readNew()).catch(() => {});
  }, POLL_MS);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      // The last epochs may land after the last poll: read them, but decide nothing any more.
      reader.stopped = true;
      await reader.readNew().catch(() => {});
      return reader.history;
    },
  };
}

class MetricsReader {
  readonly history: Record<string, unknown>[] = [];
  stopped = false;
  private offset = 0;
  private partial = '';
  private best: number | null = null;
  private readonly ref: MetricRef;

  constructor(
    private readonly path: string,
    private readonly task: TrialTask,
    private readonly o: FollowOptions,
    private readonly prune: (d: PruneDecision) => void,
  ) {
    this.ref = parseMetric(task.metric);
  }

  /** Reads whole new lines from where it left off (a line being written waits for the next read). */
  async readNew(): Promise<void> {
    const handle = await open(this.path, 'r').catch(() => null);
    if (!handle) return;
    try {
      const { size } = await handle.stat();
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      await handle.read(buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) await this.onRecord(JSON.parse(line));
    } finally {
      await handle.close();
    }
  }

  private async onRecord(record: Record<string, unknown>): Promise<void> {
    this.history.push(record);
    const value = epochMetric(record, this.ref);
    const rule = this.task.earlyTerminate;
    if (value === null || !rule || this.stopped) return;
    if (this.best === null || isBetter(value, this.best, this.ref.direction)) this.best = value;
    const decision = await decide(rule, this.o.store, {
      trialId: this.task.trialId,
      epoch: Number(record.epoch),
      value,
      best: this.best,
      maxEpochs: this.task.config.trainer.epochs,
      direction: this.ref.direction,
    });
    if (!decision) return;
    this.o.onDecision?.(decision);
    if (decision.action === 'stop') {
      this.stopped = true;
      this.prune(decision);
    }
  }
}
