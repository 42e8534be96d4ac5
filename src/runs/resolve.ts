// Finds runs again from what a user types (`mtl eval <ref>`, `mtl runs show <ref>`): a path, an id,
// a unique id prefix or `latest`; and lists a runs dir without letting one broken folder stop it.

import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { editDistance } from '../text.ts';
import { formatStampMs } from './run-id.ts';
import { RUN_RECORD_FILE, type RunRecord, readRunRecord } from './run-record.ts';

export interface ResolvedRun {
  /** The folder name (what users type); normally equal to record.id. */
  id: string;
  /** Absolute path of the run folder. */
  dir: string;
  record: RunRecord;
}

/** How many candidates an error message names before it stops being readable. */
const MAX_SUGGESTIONS = 5;
const MAX_AMBIGUOUS_LISTED = 10;

/**
 * Resolves `ref` as a run folder path, an exact id, a unique id prefix, or `latest`. With `kind`
 * (`mtl sweep status latest`), `latest` is the newest run of that kind and a prefix counts only runs
 * of that kind (a sweep's trials are newer than the sweep and share its name).
 */
export async function resolveRun(runsDir: string, ref: string, kind?: RunRecord['kind']): Promise<ResolvedRun> {
  if (ref !== 'latest' && (await exists(join(ref, RUN_RECORD_FILE)))) return loadRun(resolve(ref));
  const root = resolve(runsDir);
  const ids = await listRunFolders(root);
  if (ref === 'latest') {
    const newest = (await listRuns(root)).find((r) => kind === undefined || r.record.kind === kind);
    if (!newest) throw new InputError(`no ${kind ? `${kind} ` : ''}runs in '${root}' to pick 'latest' from`);
    return newest;
  }
  if (ids.includes(ref)) return loadRun(join(root, ref));
  let matches = ids.filter((id) => id.startsWith(ref));
  if (kind !== undefined && matches.length > 1) {
    const runs = await Promise.all(matches.map((id) => loadRun(join(root, id)).catch(() => null)));
    const ofKind = runs.filter((r) => r?.record.kind === kind).map((r) => r!.id);
    if (ofKind.length > 0) matches = ofKind;
  }
  if (matches.length === 1) return loadRun(join(root, matches[0]!));
  if (matches.length > 1) throw new InputError(ambiguousMessage(ref, matches));
  const near = nearestIds(ref, ids);
  const hint = near.length > 0 ? `; nearest: ${near.join(', ')}` : ` (the runs dir is empty)`;
  throw new InputError(`no run matches '${ref}' in '${root}'${hint}`);
}

/** Every readable run, newest first by startedAt (ties: larger id first); bad folders are skipped. */
export async function listRuns(runsDir: string): Promise<ResolvedRun[]> {
  const root = resolve(runsDir);
  if (!(await exists(root))) return [];
  const ids = await listRunFolders(root);
  const loaded = await Promise.all(ids.map((id) => loadRun(join(root, id)).catch(() => null)));
  const runs = loaded.filter((r): r is ResolvedRun => r !== null);
  return runs.sort((a, b) => startedMs(b) - startedMs(a) || compareIds(b.id, a.id));
}

/**
 * A new `eval/<yyyymmdd-hhmmss-mmm>.json` path (UTC) in run folder `dir`, with `-1`, `-2`, …
 * added if that name is taken; creates `eval/` for run folders that predate it.
 */
export async function nextEvalPath(dir: string, date: Date = new Date()): Promise<string> {
  const evalDir = join(dir, 'eval');
  await mkdir(evalDir, { recursive: true });
  const stamp = formatStampMs(date);
  for (let n = 0; ; n++) {
    const path = join(evalDir, n === 0 ? `${stamp}.json` : `${stamp}-${n}.json`);
    if (!(await exists(path))) return path;
  }
}

async function loadRun(dir: string): Promise<ResolvedRun> {
  return { id: basename(dir), dir, record: await readRunRecord(dir) };
}

/** Folder names in the runs dir; hidden entries (temp files, .DS_Store) are never runs. */
async function listRunFolders(root: string): Promise<string[]> {
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) {
    throw new InputError(`no runs dir at '${root}' (pass --runs-dir or start a run first)`);
  }
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

function ambiguousMessage(ref: string, matches: string[]): string {
  const sorted = [...matches].sort(compareIds);
  const shown = sorted.slice(0, MAX_AMBIGUOUS_LISTED).join(', ');
  const more = sorted.length > MAX_AMBIGUOUS_LISTED ? ` and ${sorted.length - MAX_AMBIGUOUS_LISTED} more` : '';
  return `prefix '${ref}' is ambiguous: matches ${shown}${more}`;
}

/** Up to 5 ids closest to `ref` by edit distance, comparing against both the whole id and its
 * same-length prefix so a typo in a short prefix still finds its run. */
function nearestIds(ref: string, ids: string[]): string[] {
  const scored = ids.map((id) => ({
    id,
    d: Math.min(editDistance(ref, id), editDistance(ref, id.slice(0, ref.length))),
  }));
  scored.sort((a, b) => a.d - b.d || compareIds(a.id, b.id));
  return scored.slice(0, MAX_SUGGESTIONS).map((s) => s.id);
}

function startedMs(run: ResolvedRun): number {
  const ms = Date.parse(run.record.startedAt);
  return Number.isNaN(ms) ? -Infinity : ms;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
