// The benchmark workloads of each suite and how one is run: through the real CLI in a child process
// (`mtl train … --json`, `mtl transfer … --json`), timings read back from the run's metrics.jsonl.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, MtlError } from '../errors.ts';
import { summarizeSeconds } from '../metrics/report.ts';
import { type ChildResult, runMtl, tail } from './spawn.ts';
import type { Suite, WorkloadResult } from './types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EpochWorkload {
  kind: 'epoch';
  name: string;
  description: string;
  /** Config file, relative to the package root. */
  config: string;
  warmup: number;
  repeats: number;
  /** --limit: train on a seeded sample of this many examples per epoch. */
  limit?: number;
  /** More `mtl train` arguments (`--set data.normalize=standardize`). */
  extraArgs?: string[];
  /** The PyTorch peer that runs the identical workload: a script in bench/peers and its arguments. */
  peer?: PeerSpec;
  /** Why the workload cannot run in this checkout, or null. */
  unavailable?: () => string | null;
}

export interface PeerSpec {
  script: 'torch_mnist.py' | 'torch_multimnist.py';
  args: string[];
}

export interface JobWorkload {
  kind: 'job';
  name: string;
  description: string;
  /** mtl arguments, without --runs-dir/--backend/--json. */
  args: string[];
  accuracy: (summary: Record<string, unknown>) => number | null;
  unavailable?: () => string | null;
}

export type Workload = EpochWorkload | JobWorkload;

export interface RunContext {
  backend: string;
  runsDir: string;
  threads: number | null;
  onStderrLine?: (line: string) => void;
}

const needs = (file: string, what: string) => (): string | null =>
  existsSync(join(ROOT, file)) ? null : `${what} is not in this version of mtl (${file} missing)`;

const mlp = (repeats: number): EpochWorkload => ({
  kind: 'epoch',
  name: 'mnist-mlp',
  description: 'one epoch of configs/mnist-mlp.yaml (784-128-10 MLP, batch 128, Adam)',
  config: 'configs/mnist-mlp.yaml',
  warmup: 1,
  repeats,
  peer: { script: 'torch_mnist.py', args: ['--model', 'mlp'] },
});

/** The seed article's StandardScaler: inputs without zeros, so no sparse first layer to lean on. */
const mlpStandardized = (repeats: number): EpochWorkload => ({
  kind: 'epoch',
  name: 'mnist-mlp-standardized',
  description: 'one epoch of configs/mnist-mlp.yaml with data.normalize=standardize (dense inputs)',
  config: 'configs/mnist-mlp.yaml',
  extraArgs: ['--set', 'data.normalize=standardize'],
  warmup: 1,
  repeats,
  peer: { script: 'torch_mnist.py', args: ['--model', 'mlp', '--normalize', 'standardize'] },
});

const cnn = (repeats: number, limit?: number): EpochWorkload => ({
  kind: 'epoch',
  name: limit ? `mnist-cnn@${limit}` : 'mnist-cnn',
  description: `one epoch of configs/mnist-cnn.yaml (conv32-pool-conv64-pool-dense128)${limit ? ` on ${limit} examples` : ''}`,
  config: 'configs/mnist-cnn.yaml',
  warmup: 1,
  repeats,
  peer: { script: 'torch_mnist.py', args: ['--model', 'cnn'] },
  ...(limit ? { limit } : {}),
});

/** `mtl transfer --model cnn`'s network: the same CNN with BatchNorm after each convolution. */
const cnnBatchNorm = (repeats: number, limit: number): EpochWorkload => ({
  kind: 'epoch',
  name: `mnist-cnn-bn@${limit}`,
  description: `one epoch of configs/mnist-cnn.yaml with BatchNorm after each conv (transfer --model cnn) on ${limit} examples`,
  config: 'configs/mnist-cnn.yaml',
  extraArgs: ['--set', 'model.conv.0.batchNorm=true', '--set', 'model.conv.1.batchNorm=true'],
  warmup: 1,
  repeats,
  limit,
  peer: { script: 'torch_mnist.py', args: ['--model', 'cnn', '--batchnorm'] },
});

const multitask = (repeats: number, limit: number): EpochWorkload => ({
  kind: 'epoch',
  name: `multimnist-hps@${limit}`,
  description: `multi-task epoch of configs/multimnist-hps.yaml on ${limit} examples`,
  config: 'configs/multimnist-hps.yaml',
  warmup: 1,
  repeats,
  limit,
  peer: { script: 'torch_multimnist.py', args: [] },
  unavailable: () =>
    needs('configs/multimnist-hps.yaml', 'the multi-task config')() ??
    needs('src/cli/multitask.ts', 'multi-task training')(),
});

const transfer = (name: string, extra: string[]): JobWorkload => ({
  kind: 'job',
  name,
  args: ['transfer', '--from', 'mnist', '--to', 'fashion', ...extra],
  description: `${`mtl transfer --from mnist --to fashion ${extra.join(' ')}`.trim()} (end to end)`,
  accuracy: bestStrategyAccuracy,
  unavailable: needs('src/cli/transfer.ts', 'mtl transfer'),
});

/** quick fits a CI job (a few minutes on 2 cores); full is what bench/RESULTS.md reports. */
export function suiteWorkloads(suite: Suite): Workload[] {
  if (suite === 'quick') {
    return [
      mlp(3),
      mlpStandardized(3),
      cnn(2, 12800),
      cnnBatchNorm(2, 3200),
      transfer('transfer mnist→fashion (quick)', ['--epochs', '2', '--source-epochs', '2', '--limit', '12000']),
      multitask(2, 6000),
    ];
  }
  return [
    mlp(5),
    mlpStandardized(5),
    cnn(3),
    cnnBatchNorm(3, 12800),
    transfer('transfer mnist→fashion', []),
    multitask(3, 12000),
  ];
}

export async function runWorkload(w: Workload, ctx: RunContext): Promise<WorkloadResult> {
  return w.kind === 'epoch' ? runEpochWorkload(w, ctx) : runJobWorkload(w, ctx);
}

async function runEpochWorkload(w: EpochWorkload, ctx: RunContext): Promise<WorkloadResult> {
  const args = [
    'train',
    join(ROOT, w.config),
    '--epochs',
    String(w.warmup + w.repeats),
    '--name',
    `bench-${w.name.replace(/[^\w-]+/g, '-')}`,
  ];
  if (w.limit) args.push('--limit', String(w.limit));
  if (w.extraArgs) args.push(...w.extraArgs);
  const { summary, child } = await runJson(w.name, args, ctx);
  const runDir = String(summary.runDir);
  const seconds = readEpochSeconds(join(runDir, 'metrics.jsonl')).slice(w.warmup);
  if (seconds.length === 0) throw new MtlError(`workload ${w.name}: no measured epochs in ${runDir}/metrics.jsonl`);
  const secondsPerEpoch = summarizeSeconds(seconds);
  const samplesPerEpoch = (summary.data as { train?: number } | undefined)?.train ?? w.limit ?? 0;
  return {
    name: w.name,
    description: w.description,
    kind: 'epoch',
    ...backendOf(summary, ctx),
    epochs: { warmup: w.warmup, measured: seconds.length },
    samplesPerEpoch,
    secondsPerEpoch,
    samplesPerSecond: samplesPerEpoch / secondsPerEpoch.median,
    wallSeconds: child.wallSeconds,
    peakRssMB: child.peakRssMB,
    accuracy: testAccuracy(summary),
    versions: readVersions(runDir),
  };
}

async function runJobWorkload(w: JobWorkload, ctx: RunContext): Promise<WorkloadResult> {
  const { summary, child } = await runJson(w.name, w.args, ctx);
  return {
    name: w.name,
    description: w.description,
    kind: 'job',
    ...backendOf(summary, ctx),
    wallSeconds: child.wallSeconds,
    peakRssMB: child.peakRssMB,
    accuracy: w.accuracy(summary),
    versions: readVersions(String(summary.runDir)),
  };
}

async function runJson(
  name: string,
  args: string[],
  ctx: RunContext,
): Promise<{ summary: Record<string, unknown>; child: ChildResult }> {
  const full = [
    ...args,
    '--runs-dir',
    ctx.runsDir,
    '--json',
    ...(ctx.backend !== 'auto' ? ['--backend', ctx.backend] : []),
  ];
  const child = await runMtl(full, { onStderrLine: ctx.onStderrLine });
  if (child.code !== 0) {
    const message = `workload ${name} failed (mtl ${args[0]} exited ${child.code}):\n${tail(child.stderr)}`;
    throw child.code === 5 ? new EnvironmentError(message) : new MtlError(message);
  }
  try {
    return { summary: JSON.parse(child.stdout) as Record<string, unknown>, child };
  } catch {
    throw new MtlError(`workload ${name}: mtl ${args[0]} --json did not print one JSON document`);
  }
}

function backendOf(
  summary: Record<string, unknown>,
  ctx: RunContext,
): { backend: string | null; threads: number | null; kernels?: string } {
  const record = summary.backend as { name?: string; kernels?: string; threads?: number } | undefined;
  const backend = record?.name ?? null;
  if (backend !== 'wasm') return { backend, threads: null };
  return { backend, threads: record?.threads ?? ctx.threads, ...(record?.kernels ? { kernels: record.kernels } : {}) };
}

export function readEpochSeconds(metricsFile: string): number[] {
  return readFileSync(metricsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { seconds: number }).seconds);
}

function readVersions(runDir: string): Record<string, string> | undefined {
  try {
    return (JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { versions?: Record<string, string> })
      .versions;
  } catch {
    return undefined;
  }
}

/** Single task: test.accuracy; multi-task: the mean of the tasks' test accuracies. */
export function testAccuracy(summary: Record<string, unknown>): number | null {
  const test = summary.test as { accuracy?: number } | undefined;
  if (typeof test?.accuracy === 'number') return test.accuracy;
  const tasks = summary.tasks as Record<string, { test?: { accuracy?: number } }> | undefined;
  const accs = Object.values(tasks ?? {})
    .map((t) => t.test?.accuracy)
    .filter((a): a is number => typeof a === 'number');
  return accs.length ? accs.reduce((a, b) => a + b, 0) / accs.length : null;
}

/** Transfer: the best mean target test accuracy over the strategies that were run. */
export function bestStrategyAccuracy(summary: Record<string, unknown>): number | null {
  const strategies = summary.strategies as Record<string, { test?: { accuracy?: { mean?: number } } }> | undefined;
  const means = Object.values(strategies ?? {})
    .map((s) => s.test?.accuracy?.mean)
    .filter((a): a is number => typeof a === 'number');
  return means.length ? Math.max(...means) : null;
}
