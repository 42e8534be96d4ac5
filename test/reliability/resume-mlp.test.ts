// The resume contract through the real CLI on an MLP with dropout and a cosine schedule: a run killed
// (SIGKILL after an epoch, inside checkpoint writes, at seeded random moments), stopped (SIGTERM) or
// failed because nothing could be written is finished by `mtl resume` byte-identical to the
// uninterrupted run. Every kill is checked to have happened where it was aimed.

import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Rng } from '../../src/random/rng.ts';
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
  sleep,
  startMtl,
  waitUntil,
} from './helpers.ts';

/** 12 steps per epoch with dropout (the generic path) and a cosine LR: every random stream matters. */
const EPOCHS = 6;
const TRAIN = [
  'train',
  'configs/mnist-mlp.yaml',
  '--limit',
  '1500',
  '--epochs',
  String(EPOCHS),
  '--set',
  'model.dropout=0.2',
  '--set',
  'trainer.schedule.name=cosine',
];

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function runsDir(prefix: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

/** The uninterrupted run, started once by whichever test needs it first (alongside its own run). */
let referenceRun: Promise<string> | null = null;
function reference(): Promise<string> {
  referenceRun ??= (async () => {
    const runs = runsDir('mtl-rel-ref-');
    ok(await runMtl([...TRAIN, '--runs-dir', runs]), 'the uninterrupted run');
    return runFolders(runs)[0]!;
  })();
  return referenceRun;
}

function ok(r: Exit, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
}

function killed(r: Exit, what: string): void {
  assert.equal(r.signal, 'SIGKILL', `${what} was to be killed: exit ${r.code}\n${r.stderr}`);
}

test('SIGKILLed after epoch 2, inside checkpoint writes and at seeded random moments: listed crashed, each time resumed, byte-identical at the end', async () => {
  const runs = runsDir('mtl-rel-kill-');
  const ref = reference();
  // 1. Killed once epoch 2 is saved: listed crashed, with the command that continues it.
  const run = startMtl([...TRAIN, '--runs-dir', runs]);
  await waitUntil(() => runFolders(runs).some((d) => savedEpoch(d) >= 2), run);
  run.child.kill('SIGKILL');
  killed(await run.exit, 'the run');
  const [dir] = runFolders(runs) as [string];
  const id = dir.split('/').pop()!;
  const [listed] = JSON.parse((await runMtl(['runs', 'ls', '--runs-dir', runs, '--json'])).stdout);
  assert.equal(listed.status, 'crashed');
  assert.equal(listed.recordedStatus, 'running');
  assert.match(listed.statusReason, /process \d+ on this host is gone/);
  assert.equal(listed.resumeCommand, `mtl resume ${id}`);
  const human = await runMtl(['runs', 'ls', '--runs-dir', runs]);
  assert.match(human.stderr, new RegExp(`${id}\\s+pretrain\\s+crashed`));
  assert.match(human.stderr, new RegExp(`crashed ${id}: continue it with mtl resume ${id}`));
  const saved = savedEpoch(dir);

  // 2. Killed between moving last/ aside and renaming the new last/ in (faults strike before the
  //    operation: the 1st rename in checkpoints/last moves it aside, the 2nd would bring the new one):
  //    only last.<hex>.old is left.
  const checkpoints = join(dir, 'checkpoints');
  let r = await runMtl(['resume', id, '--runs-dir', runs], { MTL_FAULT: 'kill:checkpoints/last:2' });
  killed(r, 'resume 1 (inside the swap of last/)');
  assert.match(r.stderr, new RegExp(`continuing after epoch ${saved}`));
  assert.ok(!existsSync(join(checkpoints, 'last')), 'last/ was moved aside');
  assert.ok(
    readdirSync(checkpoints).some((n) => /^last\.[0-9a-f]{8}\.old$/.test(n)),
    'the saved last/ waits aside',
  );

  // 3. Killed while writing resume.json into the temp folder of its first checkpoint.
  r = await runMtl(['resume', dir], { MTL_FAULT: 'kill:resume.json:1' });
  killed(r, 'resume 2 (writing last/)');
  assert.ok(
    readdirSync(checkpoints).some((n) => /^\.[0-9a-f]{8}\.tmp$/.test(n)),
    'a half-written checkpoint',
  );
  assert.equal(savedEpoch(dir), saved, 'last/ still holds the saved epoch');

  // 4. Killed between writing last/ and best/ (every epoch of this run improves): before best/'s first rename.
  r = await runMtl(['resume', dir], { MTL_FAULT: 'kill:checkpoints/best:1' });
  killed(r, 'resume 3 (between last/ and best/)');
  assert.equal(savedEpoch(dir), saved + 1, 'last/ was written, best/ was not');

  // 5. Seeded random moments: after a saved epoch, plus 0-150 ms (mid-epoch, mid-validation, mid-write).
  const rng = new Rng(20261130);
  let randomKills = 0;
  for (let round = 0; round < 2 && savedEpoch(dir) < EPOCHS - 1; round++) {
    const afterEpoch = savedEpoch(dir) + rng.int(EPOCHS - 1 - savedEpoch(dir));
    const resume = startMtl(['resume', dir]);
    await waitUntil(() => savedEpoch(dir) >= afterEpoch, resume).catch(() => undefined);
    await sleep(rng.int(150));
    resume.child.kill('SIGKILL');
    if ((await resume.exit).signal === 'SIGKILL') randomKills++;
  }
  assert.ok(randomKills >= 1, 'a random-moment kill landed before the run finished');

  ok(await runMtl(['resume', dir]), 'the last resume');
  assertSameRun(dir, await ref);
  const record = readJson<{ status: string; resumes: { fromEpoch: number }[] }>(join(dir, 'run.json'));
  assert.equal(record.status, 'completed');
  // The three aimed kills each resumed from the epoch saved before them (the swap and the write were undone).
  assert.deepEqual(
    record.resumes.slice(0, 3).map((e) => e.fromEpoch),
    [saved, saved, saved],
  );
  const again = await runMtl(['resume', dir]);
  ok(again, 'resuming a completed run');
  assert.match(again.stderr, /completed at .*: nothing to resume/);
});

test('nothing writable, then a full disk, then SIGTERM: each time the run stops cleanly and resumes byte-identical', async () => {
  const runs = runsDir('mtl-rel-disk-');
  const ref = reference();
  // 1. From the 12th write on nothing can be written, run.json included: the error says so, and the
  //    run, still `running` on disk with its process gone, is listed crashed.
  let r = await runMtl([...TRAIN, '--runs-dir', runs], { MTL_FAULT: 'erofs::12' });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /error: cannot write .*: read-only file system \(EROFS\)/);
  assert.match(r.stderr, /the run could not be marked failed either: cannot write .*run\.json/);
  const [dir] = runFolders(runs) as [string];
  assert.equal(runLiveness(readJson<RunRecord>(join(dir, 'run.json'))).status, 'crashed');
  const saved = savedEpoch(dir);

  // 2. Resumed on a disk that fills up at its 2nd last/ checkpoint: failed, naming the file; the last
  //    complete checkpoint stays, metrics.jsonl already holds the lost epoch's line.
  r = await runMtl(['resume', dir], { MTL_FAULT: 'enospc:resume.json:2' });
  assert.equal(r.code, 5, r.stderr);
  const file = join(dir, 'checkpoints', 'last', 'resume.json');
  assert.match(r.stderr, new RegExp(`cannot write ${file}: no space left on device \\(ENOSPC\\)`));
  assert.match(r.stderr, /Earlier checkpoints are intact: .*mtl resume /);
  const record = readJson<{ status: string; error: string }>(join(dir, 'run.json'));
  assert.equal(record.status, 'failed');
  assert.match(record.error, /ENOSPC/);
  assert.equal(savedEpoch(dir), saved + 1);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, saved + 2);

  // 3. Resumed with room again, stopped by SIGTERM: interrupted, exit 130.
  const run = startMtl(['resume', dir]);
  await waitUntil(() => savedEpoch(dir) >= saved + 2, run);
  run.child.kill('SIGTERM');
  r = await run.exit;
  assert.equal(r.code, 130, r.stderr);
  assert.equal(readJson(join(dir, 'run.json')).status, 'interrupted');

  // 4. `mtl train --resume` is the same as `mtl resume`.
  ok(await runMtl(['train', '--resume', dir]), 'mtl train --resume');
  assertSameRun(dir, await ref);
});

test('a bit-flipped or truncated checkpoint: mtl eval and mtl resume exit 3 naming the file, the run left as it was', async () => {
  const runs = runsDir('mtl-rel-damage-');
  const copy = join(runs, 'damaged');
  cpSync(await reference(), copy, { recursive: true });
  const best = join(copy, 'checkpoints', 'best', 'weights.bin');
  const bytes = readFileSync(best);
  bytes[bytes.length >> 1]! ^= 0x01;
  writeFileSync(best, bytes);
  let r = await runMtl(['eval', copy]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`error: checkpoint file ${best} is damaged: sha256 .* does not match the manifest`),
  );
  // A run stopped before its end, whose last/ weights were cut short.
  const record = { ...readJson<RunRecord>(join(copy, 'run.json')), status: 'interrupted' as const };
  writeFileSync(join(copy, 'run.json'), JSON.stringify(record));
  const last = join(copy, 'checkpoints', 'last', 'weights.bin');
  truncateSync(last, 1000);
  r = await runMtl(['resume', copy]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot resume .*: checkpoint file ${last} is damaged: truncated`));
  assert.deepEqual(readJson(join(copy, 'run.json')), record, 'run.json is as it was');
});
