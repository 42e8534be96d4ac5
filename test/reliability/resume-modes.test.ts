// Resume in the other modes, through the real CLI: MultiMNIST runs with PCGrad (per-step random task
// orders from the multi-task stream) and with equal weighting (the fused convnet step) and a transfer job (finished strategies kept, the interrupted
// child resumed in its lp-ft phase switch, the rest run) finish byte-identical to uninterrupted runs.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runLiveness } from '../../src/runs/liveness.ts';
import type { RunRecord } from '../../src/runs/run-record.ts';
import { tempDir } from '../e2e/helpers.ts';
import {
  assertSameRun,
  type Exit,
  readJson,
  runFolders,
  runMtl,
  savedEpoch,
  savedEpochIn,
  startMtl,
  waitUntil,
} from './helpers.ts';

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function runsDir(prefix: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

function ok(r: Exit, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
}

/** Starts `args` twice, one uninterrupted and one SIGKILLed once `killAt()` holds; returns their runs dirs. */
async function referenceAndKilled(args: string[], killAt: (runs: string) => boolean): Promise<[string, string]> {
  const [refRuns, runs] = [runsDir('mtl-rel-ref-'), runsDir('mtl-rel-kill-')];
  const reference = runMtl([...args, '--runs-dir', refRuns]);
  const run = startMtl([...args, '--runs-dir', runs]);
  await waitUntil(() => killAt(runs), run);
  run.child.kill('SIGKILL');
  assert.equal((await run.exit).signal, 'SIGKILL');
  ok(await reference, 'the uninterrupted run');
  return [refRuns, runs];
}

// PCGrad takes its per-task gradients from MtlCnnTaskGrads and applies them through the optimizer
// (random task orders every step); equal weighting the fused convnet step (one MtlCnnStep kernel per
// step, writing tfjs's own Adam moments); MGDA-UB both kernels, its step with the weights it found.
// A resume must continue each exactly.
for (const weighting of ['pcgrad', 'equal', 'mgda'] as const) {
  test(`MultiMNIST with ${weighting}, SIGKILLed after epoch 2: listed crashed, resumed byte-identical`, async () => {
    const args = [
      'train',
      'configs/multimnist-hps.yaml',
      '--limit',
      '600',
      '--epochs',
      '4',
      '--set',
      `multitask.weighting=${weighting}`,
    ];
    const [refRuns, runs] = await referenceAndKilled(args, (r) => savedEpochIn(r) >= 2);
    const [dir] = runFolders(runs) as [string];
    assert.equal(runLiveness(readJson<RunRecord>(join(dir, 'run.json'))).status, 'crashed');
    const r = await runMtl(['resume', 'latest', '--runs-dir', runs]);
    ok(r, 'resume');
    assert.match(r.stderr, new RegExp(`hard / ${weighting}, 4 epochs`));
    assertSameRun(dir, runFolders(refRuns)[0]!);
    // The tensor count each epoch reports is part of the records compared: the resumed process holds
    // exactly what the uninterrupted one held.
    assert.equal(readJson<{ resumes: { fromEpoch: number }[] }>(join(dir, 'run.json')).resumes[0]!.fromEpoch, 2);
  });
}

test('a transfer killed inside its lp-ft child: reinit kept, lp-ft resumed, linear-probe run; all byte-identical', async () => {
  const args = [
    'transfer',
    '--from',
    'mnist',
    '--to',
    'fashion',
    '--strategy',
    'reinit',
    '--strategy',
    'lp-ft',
    '--strategy',
    'linear-probe',
    '--epochs',
    '4',
    '--source-epochs',
    '2',
    '--limit',
    '500',
  ];
  // lp-ft probes for at most half the budget (2 epochs), so a kill after epoch 2 resumes at its phase switch.
  const [refRuns, runs] = await referenceAndKilled(args, (r) => savedEpochIn(r, '-lp-ft-') >= 2);
  const transfer = runFolders(runs).find((d) => /fashion-mlp-\d/.test(d))!;
  // The source and reinit completed; the transfer and its lp-ft child died with the process.
  const statuses = runFolders(runs).map((d) => runLiveness(readJson<RunRecord>(join(d, 'run.json'))).status);
  assert.deepEqual(statuses.sort(), ['completed', 'completed', 'crashed', 'crashed']);
  const r = await runMtl(['resume', transfer, '--json']);
  ok(r, 'resume');
  assert.match(r.stderr, /reinit \(seed 42\): completed before the interruption, kept/);
  assert.match(r.stderr, /\[2\/3\] lp-ft \(seed 42\)/);
  assert.match(r.stderr, /\[3\/3\] linear-probe \(seed 42\)/);
  for (const strategy of ['reinit', 'lp-ft', 'linear-probe']) {
    const mine = runFolders(runs).find((d) => d.includes(`-${strategy}-`))!;
    assertSameRun(mine, runFolders(refRuns).find((d) => d.includes(`-${strategy}-`))!);
  }
  const lpft = runFolders(runs).find((d) => d.includes('-lp-ft-'))!;
  assert.equal(savedEpoch(lpft), 4);
  const ids = (s: Record<string, unknown>) =>
    JSON.parse(
      JSON.stringify(s, (k, v) => (['runId', 'runDir', 'runIds', 'seconds', 'timing'].includes(k) ? undefined : v)),
    );
  const resumed = JSON.parse(r.stdout);
  const uninterrupted = readJson(join(runFolders(refRuns).find((d) => /fashion-mlp-\d/.test(d))!, 'summary.json'));
  assert.deepEqual(ids(resumed), ids(uninterrupted));
  assert.equal(resumed.source.reused, false, 'the source this transfer trained is still reported as trained');
});
