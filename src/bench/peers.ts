// `mtl bench --peers`: runs each workload's PyTorch peer (bench/peers: torch_mnist.py for the MLPs and
// the CNN, torch_multimnist.py for MultiLeNet) on the identical workload, one after the other with mtl
// on the same machine, so the ratio mtl ÷ PyTorch is measured side by side.
import { fileURLToPath } from 'node:url';
import { EnvironmentError, MtlError } from '../errors.ts';
import type { SecondsSummary } from '../metrics/report.ts';
import { runProcess, tail } from './spawn.ts';
import type { PeerResult } from './types.ts';
import type { EpochWorkload } from './workloads.ts';

const PEERS_DIR = fileURLToPath(new URL('../../bench/peers/', import.meta.url));
/** PyTorch on 1 thread: faster than 2 on the 2-core machines measured (bench/RESULTS.md). */
const PEER_THREADS = 1;

/** Pythons tried in order when MTL_PEER_PYTHON is unset: the one on PATH, then the system one. */
const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'];

/** The first Python that imports torch and numpy; fails with exit 5 when none does. */
export async function findPeerPython(): Promise<{ python: string; torch: string }> {
  const candidates = process.env.MTL_PEER_PYTHON ? [process.env.MTL_PEER_PYTHON] : PYTHON_CANDIDATES;
  const errors: string[] = [];
  for (const python of candidates) {
    const r = await runProcess(python, ['-c', 'import torch, numpy; print(torch.__version__)']).catch((err: Error) => ({
      code: 127,
      stdout: '',
      stderr: err.message,
    }));
    if (r.code === 0) return { python, torch: r.stdout.trim() };
    errors.push(`${python}: ${tail(r.stderr, 1)}`);
  }
  throw new EnvironmentError(
    `--peers needs a Python with PyTorch and numpy (set MTL_PEER_PYTHON): ${errors.join('; ')}`,
  );
}

interface PeerOutput {
  engine: string;
  threads: number;
  epochSeconds: SecondsSummary;
  samplesPerSecond: number;
  testAccuracy: number;
}

/** Runs `w`'s peer; its ratio is left null for the caller, which pairs it with the mtl run beside it. */
export async function runPeer(w: EpochWorkload, python: string): Promise<PeerResult> {
  if (!w.peer) throw new MtlError(`workload ${w.name} has no peer`);
  const args = [
    PEERS_DIR + w.peer.script,
    ...w.peer.args,
    '--epochs',
    String(w.warmup + w.repeats),
    '--warmup',
    String(w.warmup),
    '--threads',
    String(PEER_THREADS),
    ...(w.limit ? ['--limit', String(w.limit)] : []),
  ];
  const r = await runProcess(python, args);
  if (r.code !== 0) throw new MtlError(`peer for ${w.name} failed (exit ${r.code}):\n${tail(r.stderr)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as PeerOutput;
  return {
    workload: w.name,
    engine: out.engine,
    threads: out.threads,
    secondsPerEpoch: out.epochSeconds,
    samplesPerSecond: out.samplesPerSecond,
    accuracy: out.testAccuracy,
    ratio: null,
  };
}
