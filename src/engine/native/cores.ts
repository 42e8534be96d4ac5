// How many physical cores this process may run on: the default for mtl's kernel threads. SMT siblings
// (two hardware threads of one core) share its SIMD units, so a second kernel thread on a sibling adds
// little; a second core adds a lot (on the 2-vCPU VM of bench/RESULTS.md, whose vCPUs are two cores,
// 2 threads train the CNN 1.3x and MultiLeNet 1.4x faster per epoch than 1, 2026-12-01).

import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** The CPU numbers of a Linux CPU list such as `0-3,8,10-11`; null when it is not one. */
export function parseCpuList(list: string): number[] | null {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (hi < lo || hi - lo > 65536) return null;
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

export interface CoreSources {
  /** /sys/devices/system/cpu: cpu<N>/topology/thread_siblings_list per CPU. */
  sysCpu: string;
  /** /proc/self/status: Cpus_allowed_list, the CPUs this process may run on. */
  status: string;
}

const LINUX: CoreSources = { sysCpu: '/sys/devices/system/cpu', status: '/proc/self/status' };

/**
 * Physical cores among the CPUs this process may use: on Linux, the distinct SMT sibling sets of the
 * allowed CPUs (sysfs topology); elsewhere, or when that cannot be read, half the logical CPUs (cloud
 * vCPUs and laptop cores usually come in SMT pairs). At least 1.
 */
export function physicalCores(sources: CoreSources | null = process.platform === 'linux' ? LINUX : null): number {
  const estimate = Math.max(1, Math.floor(availableParallelism() / 2));
  if (!sources) return estimate;
  try {
    const allowedLine = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync(sources.status, 'utf8'))?.[1];
    const present = readdirSync(sources.sysCpu)
      .map((n) => /^cpu(\d+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
    const allowed = allowedLine ? parseCpuList(allowedLine) : present;
    if (!allowed) return estimate;
    const cores = new Set<string>();
    for (const cpu of allowed) {
      if (!present.includes(cpu)) continue;
      const siblings = readFileSync(`${sources.sysCpu}/cpu${cpu}/topology/thread_siblings_list`, 'utf8');
      const list = parseCpuList(siblings);
      if (!list) return estimate;
      cores.add(list.join(','));
    }
    return cores.size > 0 ? cores.size : estimate;
  } catch {
    return estimate;
  }
}
