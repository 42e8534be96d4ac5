// The sweep's terminal display: with a progress bar (a TTY), each trial's line is logged above the
// bar, and the last one, which ends the sweep, must be written before the bar is cleared.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createSweepProgress } from '../../src/cli/sweep-print.ts';
import { buildSummary } from '../../src/sweep/summary.ts';
import type { PlannedTrial, TrialResult } from '../../src/sweep/types.ts';

/** A writable that says it is a terminal, keeping what cli-progress writes to it. */
function fakeTerminal(): NodeJS.WriteStream & { text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk;
      done();
    },
  });
  return Object.assign(stream, { isTTY: true, columns: 160, rows: 40, text: () => text }) as never;
}

test('on a terminal every trial gets its line, the one that ends the sweep included', () => {
  const plan: PlannedTrial[] = [1, 2].map((i) => ({
    trialId: `t${i}`,
    point: i - 1,
    params: { 'trainer.optimizer.lr': i / 1000 },
    seed: 42,
    config: {} as PlannedTrial['config'], // planned (a null config is a point that failed to plan)
  }));
  const results = new Map<string, TrialResult>();
  const term = fakeTerminal();
  const progress = createSweepProgress(plan.length, 2, term);
  for (const t of plan) {
    const result = {
      trialId: t.trialId,
      status: 'completed',
      runId: `run-${t.trialId}`,
      runDir: null,
      host: 'h',
      summary: { epochs: 1, val: { loss: 1, accuracy: 0.9 }, test: { loss: 1, accuracy: 0.9 } },
      history: [],
      exitCode: 0,
      attempt: 1,
      seconds: 1,
    } as TrialResult;
    results.set(t.trialId, result);
    const summary = buildSummary({
      runId: 's',
      runDir: '/s',
      method: 'grid',
      metric: 'val.accuracy',
      plan,
      results,
      pending: 'planned',
      status: 'running',
      startedAt: new Date().toISOString(),
      endedAt: null,
    });
    progress.update({ type: 'end', trial: t, result }, summary);
  }
  progress.stop(); // at once, as when the last trial ends the sweep
  assert.match(term.text(), /\[1\/2\] lr=0\.001 seed 42: completed/);
  assert.match(term.text(), /\[2\/2\] lr=0\.002 seed 42: completed/);
});
