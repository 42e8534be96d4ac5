// The kernels' default thread count: physical cores from a Linux sysfs topology (fake trees here),
// SMT siblings counted once, only the CPUs this process may use.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCpuList, physicalCores } from '../../src/engine/native/cores.ts';

/** A sysfs cpu folder whose CPU i has the sibling list siblings[i], and a status file. */
function fakeLinux(siblings: string[], allowed: string | null): { sysCpu: string; status: string } {
  const root = mkdtempSync(join(tmpdir(), 'mtl-cores-'));
  const sysCpu = join(root, 'cpu');
  siblings.forEach((list, i) => {
    mkdirSync(join(sysCpu, `cpu${i}`, 'topology'), { recursive: true });
    writeFileSync(join(sysCpu, `cpu${i}`, 'topology', 'thread_siblings_list'), `${list}\n`);
  });
  mkdirSync(join(sysCpu, 'cpufreq'), { recursive: true }); // not a CPU
  const status = join(root, 'status');
  writeFileSync(status, `Name:\tnode\n${allowed === null ? '' : `Cpus_allowed_list:\t${allowed}\n`}Mems_allowed:\t1\n`);
  return { sysCpu, status };
}

test('CPU lists parse as Linux writes them, and anything else is refused', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('5'), [5]);
  assert.equal(parseCpuList('3-1'), null);
  assert.equal(parseCpuList('a-b'), null);
  assert.equal(parseCpuList(''), null);
});

test('physical cores: SMT pairs count once, cores without SMT each count, only allowed CPUs', () => {
  // 4 CPUs as 2 cores × 2 hardware threads (siblings 0,2 and 1,3: how x86 numbers them).
  assert.equal(physicalCores(fakeLinux(['0,2', '1,3', '0,2', '1,3'], '0-3')), 2);
  // 4 CPUs, no SMT (the 2-vCPU VM of bench/RESULTS.md looks like this with 2).
  assert.equal(physicalCores(fakeLinux(['0', '1', '2', '3'], '0-3')), 4);
  // Pinned to both threads of one core (taskset -c 0,2).
  assert.equal(physicalCores(fakeLinux(['0,2', '1,3', '0,2', '1,3'], '0,2')), 1);
  // No Cpus_allowed_list: every CPU present.
  assert.equal(physicalCores(fakeLinux(['0-1', '0-1', '2-3', '2-3'], null)), 2);
  // An unreadable topology falls back to half the logical CPUs.
  const estimate = Math.max(1, Math.floor(availableParallelism() / 2));
  assert.equal(physicalCores(fakeLinux(['0', 'garbage'], '0-1')), estimate);
  assert.equal(physicalCores({ sysCpu: '/nonexistent', status: '/nonexistent' }), estimate);
  assert.equal(physicalCores(null), estimate);
});
