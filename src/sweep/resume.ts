// Retrying a trial: where its earlier attempt left a resumable run folder (this machine's, or a
// shared runs dir) and this mtl has `mtl resume` (issue 12), the retry continues that run; otherwise
// it trains from scratch in a fresh folder. Runs are deterministic, so the result is the same.
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listRuns } from '../runs/resolve.ts';
import { readRunRecord } from '../runs/run-record.ts';

const BIN = fileURLToPath(new URL('../../bin/mtl', import.meta.url));
let hasResume: Promise<boolean> | null = null;

/**
 * Whether this mtl has a `resume` command, read from the command list of `mtl --help` (not from
 * `mtl resume --help`: for an unknown command commander shows the program's help and exits 0).
 */
export function resumeCommandExists(): Promise<boolean> {
  hasResume ??= new Promise((done) => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let help = '';
    child.stdout.on('data', (b: Buffer) => (help += b.toString('utf8')));
    child.on('error', () => done(false));
    child.on('close', () => done(hasCommand(help, 'resume')));
  });
  return hasResume;
}

/** A command listed under `Commands:` in commander's help (`  resume [options] <run>  …`). */
export function hasCommand(help: string, name: string): boolean {
  const commands = help.split(/^Commands:$/m)[1] ?? '';
  return new RegExp(`^\\s+${name}(\\s|$)`, 'm').test(commands);
}

/**
 * A run a trial can go on from: one that stopped part-way (interrupted, or `running` with its process
 * gone) with a last checkpoint, which `mtl resume` continues; or one that completed (its attempt was
 * cut off before it reported, or somebody ran `mtl resume` on it), whose summary `mtl resume --json`
 * prints as it is.
 */
export async function isResumable(dir: string): Promise<boolean> {
  const record = await readRunRecord(dir).catch(() => null);
  if (!record || record.status === 'failed') return false;
  const needed = record.status === 'completed' ? 'summary.json' : join('checkpoints', 'last', 'model.json');
  return access(join(dir, needed)).then(
    () => true,
    () => false,
  );
}

/**
 * The kernel threads the run trained with (run.json backend.threads), or null. `mtl resume` continues a
 * run exactly only with the same backend, threads included, so a resumed trial gets that many even
 * where the sweep now gives its trials fewer (`-j 2` resuming a trial of `-j 1`).
 */
export async function recordedThreads(dir: string): Promise<number | null> {
  const record = await readRunRecord(dir).catch(() => null);
  const threads = record?.backend.threads;
  return typeof threads === 'number' && threads >= 1 ? threads : null;
}

/** The folder a retry should resume, or null to start afresh. */
export async function resumeTarget(previousRunDir: string | null | undefined): Promise<string | null> {
  if (!previousRunDir || !(await isResumable(previousRunDir))) return null;
  return (await resumeCommandExists()) ? previousRunDir : null;
}

/**
 * Per trial id, the newest run folder in `runsDir` that a trial of sweep `sweepId` trained in (its
 * run.json names the sweep as parent and the trial id as config hash). After Redis lost a sweep's jobs,
 * the re-enqueued trials go on from these where the runs dir is shared with the workers.
 */
export async function trialRunsIn(
  runsDir: string,
  sweepId: string,
): Promise<Map<string, { runId: string; runDir: string; host: string }>> {
  const found = new Map<string, { runId: string; runDir: string; host: string }>();
  for (const run of await listRuns(runsDir)) {
    if (run.record.parentRunId !== sweepId || found.has(run.record.configHash)) continue;
    found.set(run.record.configHash, { runId: run.id, runDir: run.dir, host: run.record.host ?? '' });
  }
  return found;
}
