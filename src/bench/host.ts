// The machine a benchmark ran on, for results.json: CPU model, cores, the SIMD features that decide
// kernel speed (AVX2/FMA/AVX-512 on x86), memory, platform and Node version.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { HostInfo } from './types.ts';

const INTERESTING_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'neon', 'asimd'];

export function describeHost(): HostInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    cpuFlags: cpuFlags(),
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
    memoryMB: Math.round(totalmem() / 2 ** 20),
  };
}

function cpuFlags(): string[] {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
    const flags = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    return INTERESTING_FLAGS.filter((f) => flags.has(f));
  } catch {
    return [];
  }
}
