// Reads run folders (training, transfer, multi-task and sweep folders) back into what reports and
// `mtl runs show|compare` need. Old or partial folders load too: an unreadable or missing file is a
// problem noted for the page, never a crash.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.ts';
import { resolveRun } from '../runs/resolve.ts';
import type { RunRecord } from '../runs/run-record.ts';
import { TEST_REPORT_FILE, type TestReport } from '../runs/test-report.ts';
import type { EpochRow, EvalFile, JsonObject } from './types.ts';

export interface LoadedRun {
  /** Folder name (the run id). */
  id: string;
  /** Absolute path of the folder. */
  dir: string;
  /** run.json's kind, or summary.json's for folders without run.json (sweeps). */
  kind: string;
  record: RunRecord | null;
  summary: JsonObject | null;
  /** config.yaml as plain data (not validated: a report must open runs of older versions). */
  config: JsonObject | null;
  /** metrics.jsonl, one row per epoch; a torn last line of a running run is skipped. */
  history: EpochRow[];
  testReport: TestReport | null;
  /** eval/*.json, newest first. */
  evals: EvalFile[];
  /** events.jsonl (sweeps). */
  events: JsonObject[];
  /** Files that exist but could not be read, as sentences for the page. */
  problems: string[];
}

/** A run (id, prefix, path, `latest`) or a sweep folder given by path. */
export async function resolveReportDir(runsDir: string, ref: string): Promise<string> {
  try {
    return (await resolveRun(runsDir, ref)).dir;
  } catch (err) {
    // A folder with only summary.json (a sweep made before it had run.json) is still reportable.
    if (await isFile(join(ref, 'summary.json'))) return resolve(ref);
    throw err;
  }
}

export async function loadRun(runsDir: string, ref: string): Promise<LoadedRun> {
  return loadRunFolder(await resolveReportDir(runsDir, ref));
}

export async function loadRunFolder(dir: string): Promise<LoadedRun> {
  const problems: string[] = [];
  const read = (name: string) => readJsonFile(join(dir, name), problems);
  const record = (await read('run.json')) as RunRecord | null;
  const summary = await read('summary.json');
  if (!record && !summary) throw new InputError(`'${dir}' is not a run folder (no run.json or summary.json)`);
  const kind = String(record?.kind ?? summary?.kind ?? 'unknown');
  return {
    id: basename(dir),
    dir,
    kind,
    record,
    summary,
    config: await readYamlFile(join(dir, 'config.yaml'), problems),
    history: (await readJsonl(join(dir, 'metrics.jsonl'), problems)) as unknown as EpochRow[],
    testReport: (await read(TEST_REPORT_FILE)) as TestReport | null,
    evals: await readEvals(join(dir, 'eval'), problems),
    events: await readJsonl(join(dir, 'events.jsonl'), problems),
    problems,
  };
}

/** A run that sits next to `run` (a transfer's child, a multi-task baseline), or null when it is gone. */
export async function loadSibling(run: LoadedRun, id: string): Promise<LoadedRun | null> {
  return loadIfRun(join(dirname(run.dir), id));
}

/** The run folder at `dir`, or null when there is none (moved, deleted, on another machine). */
export async function loadIfRun(dir: string): Promise<LoadedRun | null> {
  return (await isFile(join(dir, 'run.json'))) ? loadRunFolder(dir) : null;
}

async function readText(path: string, problems: string[]): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') problems.push(`${basename(path)} could not be read (${code})`);
    return null;
  }
}

async function readJsonFile(path: string, problems: string[]): Promise<JsonObject | null> {
  const text = await readText(path, problems);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as JsonObject;
    problems.push(`${basename(path)} is not a JSON object`);
  } catch (err) {
    problems.push(`${basename(path)} is not valid JSON (${(err as Error).message})`);
  }
  return null;
}

async function readYamlFile(path: string, problems: string[]): Promise<JsonObject | null> {
  const text = await readText(path, problems);
  if (text === null) return null;
  try {
    const value = parseYaml(text) as unknown;
    return value && typeof value === 'object' ? (value as JsonObject) : null;
  } catch (err) {
    problems.push(`config.yaml is not valid YAML (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

/** One object per line; a line that does not parse is skipped (and counted) rather than fatal. */
async function readJsonl(path: string, problems: string[]): Promise<JsonObject[]> {
  const text = await readText(path, problems);
  if (text === null) return [];
  const rows: JsonObject[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as JsonObject);
    } catch {
      bad++;
    }
  }
  if (bad > 0) problems.push(`${basename(path)}: ${bad} line(s) could not be parsed and were skipped`);
  return rows;
}

async function readEvals(evalDir: string, problems: string[]): Promise<EvalFile[]> {
  let names: string[];
  try {
    names = (await readdir(evalDir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    return [];
  }
  // Names are UTC stamps (yyyymmdd-hhmmss-mmm[-n]): reverse name order is newest first.
  names.sort().reverse();
  const files: EvalFile[] = [];
  for (const name of names) {
    const doc = await readJsonFile(join(evalDir, name), problems);
    if (doc) files.push({ ...(doc as unknown as EvalFile), file: `eval/${name}` });
  }
  return files;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export interface CheckpointInfo {
  name: string;
  dir: string;
  /** The epoch whose weights it holds (model.json's userDefinedMetadata), when recorded. */
  epoch: number | null;
  /** last/ also holds the optimizer state, to resume from. */
  optimizer: boolean;
  bytes: number;
}

/** checkpoints/best and checkpoints/last as they are on disk (absent ones left out). */
export async function readCheckpoints(run: LoadedRun): Promise<CheckpointInfo[]> {
  const out: CheckpointInfo[] = [];
  for (const name of ['best', 'last']) {
    const dir = join(run.dir, 'checkpoints', name);
    const problems: string[] = [];
    const model = await readJsonFile(join(dir, 'model.json'), problems);
    if (!model) continue;
    const meta = (model.userDefinedMetadata ?? {}) as JsonObject;
    const files = await readdir(dir).catch(() => [] as string[]);
    const sizes = await Promise.all(
      files.map((f) =>
        stat(join(dir, f)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    out.push({
      name,
      dir,
      epoch: typeof meta.epoch === 'number' ? meta.epoch : null,
      optimizer: files.includes('optimizer.json'),
      bytes: sizes.reduce((a, b) => a + b, 0),
    });
  }
  return out;
}
