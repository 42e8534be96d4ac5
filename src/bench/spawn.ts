// Runs one benchmark workload as a child process: the real `mtl` CLI (or a peer script), with its
// wall time and, through rss-probe.mjs, its own peak RSS. One process per workload keeps peak RSS
// honest (it never goes down within a process) and gives each workload a fresh backend.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MTL_BIN = fileURLToPath(new URL('../../bin/mtl', import.meta.url));
const PROBE = new URL('./rss-probe.mjs', import.meta.url).href;

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** Peak RSS of the child itself (mtl children only; null when the probe did not report). */
  peakRssMB: number | null;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Called with each line the child writes to stderr (progress), for a live view. */
  onStderrLine?: (line: string) => void;
}

/** Run `mtl <args>` in a child Node process. */
export function runMtl(args: string[], options: SpawnOptions = {}): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-bench-probe-'));
  const probeFile = join(dir, 'probe.json');
  const env = { ...options.env, MTL_BENCH_PROBE_FILE: probeFile };
  return runProcess(process.execPath, ['--import', PROBE, MTL_BIN, ...args], { ...options, env }).then((r) => {
    r.peakRssMB = readProbe(probeFile);
    rmSync(dir, { recursive: true, force: true });
    return r;
  });
}

function readProbe(file: string): number | null {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { peakRssMB: number }).peakRssMB;
  } catch {
    return null;
  }
}

/** Run any command; resolves (never rejects on a non-zero exit) with its output and timing. */
export function runProcess(command: string, args: string[], options: SpawnOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      if (!options.onStderrLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onStderrLine(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout, stderr, wallSeconds: (performance.now() - started) / 1000, peakRssMB: null });
    });
  });
}

/** The last `n` non-empty lines of a child's stderr, for error messages. */
export function tail(text: string, n = 6): string {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .join('\n');
}
