// The sweep's terminal display: with a progress bar (a TTY), each trial's line is logged above the
// bar, and the last one, which ends the sweep, must be written before the bar is cleared.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createSweepProgress } from '../../src/cli/sweep-print.ts';
import type { PlannedTrial, TrialResult } from '../../src/sweep/types.ts';
import { summaryOf, trialResult } from './helpers.ts';

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
    const result = trialResult(t.trialId, 0.9, 0.9);
    results.set(t.trialId, result);
    const summary = summaryOf(plan, results, null, new Date());
    progress.update({ type: 'end', trial: t, result }, summary);
  }
  progress.stop(); // at once, as when the last trial ends the sweep
  assert.match(term.text(), /\[1\/2\] lr=0\.001 seed 42: completed/);
  assert.match(term.text(), /\[2\/2\] lr=0\.002 seed 42: completed/);
});
