// Retrying a trial: where its earlier attempt left a resumable run folder (this machine's, or a
// shared runs dir) and this mtl has `mtl resume` (issue 12), the retry continues that run; otherwise
// it trains from scratch in a fresh folder. Runs are deterministic, so the result is the same.
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** A run that stopped part-way (interrupted, or `running` with its process gone) and has a last checkpoint. */
export async function isResumable(dir: string): Promise<boolean> {
  const record = await readRunRecord(dir).catch(() => null);
  if (!record || record.status === 'completed' || record.status === 'failed') return false;
  return access(join(dir, 'checkpoints', 'last', 'model.json')).then(
    () => true,
    () => false,
  );
}

/** The folder a retry should resume, or null to start afresh. */
export async function resumeTarget(previousRunDir: string | null | undefined): Promise<string | null> {
  if (!previousRunDir || !(await isResumable(previousRunDir))) return null;
  return (await resumeCommandExists()) ? previousRunDir : null;
}
