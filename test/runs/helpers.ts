// Throwaway temp folders and run records for the run-folder tests.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '../../src/runs/run-record.ts';

/** Runs `fn` in a fresh temp folder and removes it afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mtl-runs-test-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function sampleRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'mnist-20240101-000000-abcd',
    name: 'mnist',
    kind: 'pretrain',
    status: 'running',
    argv: ['train', 'configs/mnist-mlp.yaml'],
    startedAt: '2024-01-01T00:00:00.000Z',
    endedAt: null,
    seed: 42,
    backend: { name: 'cpu', gpu: false },
    versions: { '@tensorflow/tfjs': '4.22.0' },
    configHash: '0123456789abcdef',
    parentRunId: null,
    childRunIds: [],
    ...overrides,
  };
}
