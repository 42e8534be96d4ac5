// Creates a fresh run folder. The exclusive (non-recursive) mkdir is the lock: two processes
// starting the same experiment in the same second can never share a folder.

import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError, MtlError, StorageError } from '../errors.ts';
import { asStorageError } from './atomic.ts';
import { faultPoint } from './faults.ts';
import { makeRunId, randomSuffix, sanitizeName } from './run-id.ts';

/** With 36^4 suffixes, 20 collisions in a row means something other than bad luck is wrong. */
const MAX_ATTEMPTS = 20;

export interface RunDir {
  id: string;
  /** Absolute path of the run folder. */
  dir: string;
}

export interface CreateRunDirOptions {
  /** Clock for the id's timestamp (default: now). */
  date?: Date;
  /** Source of the id's random suffix (default: crypto); tests use it to force collisions. */
  suffix?: () => string;
  /** Use exactly this id (`mtl train --run-id`, given by `mtl sweep`); an existing folder is an error. */
  id?: string;
}

/** Makes `runsDir` (recursively) and a new `<id>/` in it with `checkpoints/` and `eval/`. */
export async function createRunDir(runsDir: string, name: string, options: CreateRunDirOptions = {}): Promise<RunDir> {
  const root = resolve(runsDir);
  await mkdir(root, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    const storage = asStorageError(err, root, 'create runs dir');
    throw storage instanceof StorageError
      ? storage
      : new InputError(`cannot create runs dir '${root}': ${err.message}`);
  });
  if (options.id !== undefined) return createFixedRunDir(root, options.id);
  const date = options.date ?? new Date();
  const suffix = options.suffix ?? randomSuffix;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const id = makeRunId(name, date, suffix());
    const dir = join(root, id);
    if (!(await mkdirExclusive(dir))) continue;
    await makeSubfolders(dir);
    return { id, dir };
  }
  throw new MtlError(`could not create a unique run folder in '${root}' after ${MAX_ATTEMPTS} tries`);
}

async function createFixedRunDir(root: string, id: string): Promise<RunDir> {
  const dir = join(root, id);
  if (sanitizeName(id) !== id) throw new InputError(`run id '${id}' may only use letters, digits, '.', '-', '_'`);
  if (!(await mkdirExclusive(dir))) throw new InputError(`run folder '${dir}' already exists`);
  await makeSubfolders(dir);
  return { id, dir };
}

async function makeSubfolders(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, 'checkpoints'));
    await mkdir(join(dir, 'eval'));
  } catch (err) {
    throw asStorageError(err, dir, 'create run folder');
  }
}

/** true when this call created `dir`; false when it already existed (someone else's run). */
async function mkdirExclusive(dir: string): Promise<boolean> {
  try {
    faultPoint(dir, 'mkdir');
    await mkdir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw asStorageError(err, dirname(dir), 'create a run folder in');
  }
}
