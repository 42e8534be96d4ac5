// The committed kernels*.wasm against kernels.stamp.json (written by build.sh): every input's sha256
// must still be the one the binaries were built from, and every binary must be the one build.sh wrote.
// Fails, naming the file, when kernels.c (or its header, build.sh, micro-kernel.mjs) changed without a
// rebuild, or when a .wasm was replaced by hand.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KernelStamp } from '../../src/engine/native/write-stamp.ts';

const NATIVE = fileURLToPath(new URL('../../src/engine/native/', import.meta.url));
/** What the issue asks the stamp to cover, listed here rather than taken from write-stamp.ts. */
const INPUTS = ['kernels.c', 'kernels-ops.h', 'build.sh', 'micro-kernel.mjs'];
const REBUILD = 'rebuild with sh src/engine/native/build.sh (clang + lld) and commit the .wasm files and the stamp';

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const readStamp = (dir: string): KernelStamp =>
  JSON.parse(readFileSync(join(dir, 'kernels.stamp.json'), 'utf8')) as KernelStamp;

/** Every way the files in `dir` differ from its stamp, one line each, naming the file. */
function stampProblems(dir: string): string[] {
  const stamp = readStamp(dir);
  const problems: string[] = [];
  for (const name of INPUTS) if (!(name in stamp.sources)) problems.push(`${name}: not recorded in the stamp`);
  for (const [name, hash] of Object.entries(stamp.sources)) {
    const now = existsSync(join(dir, name)) ? sha256(join(dir, name)) : 'missing';
    if (now !== hash) problems.push(`${name} changed since the .wasm files were built (${now} ≠ ${hash}): ${REBUILD}`);
  }
  const wasm = readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  for (const name of wasm) if (!(name in stamp.builds)) problems.push(`${name}: not in the stamp (${REBUILD})`);
  for (const [name, build] of Object.entries(stamp.builds)) {
    const path = join(dir, name);
    if (!existsSync(path)) problems.push(`${name}: in the stamp but missing`);
    else if (sha256(path) !== build.sha256 || readFileSync(path).length !== build.bytes)
      problems.push(`${name} does not match its stamp (sha256 ${sha256(path)} ≠ ${build.sha256}): ${REBUILD}`);
  }
  return problems;
}

test('the committed .wasm files are the ones build.sh made from the committed sources', () => {
  assert.deepEqual(stampProblems(NATIVE), []);
});

test('the stamp records the compiler, the linker and each build flags', () => {
  const stamp = readStamp(NATIVE);
  assert.match(stamp.clang, /clang version \d+\.\d+\.\d+/);
  assert.match(stamp.wasmLd, /LLD \d+\.\d+\.\d+/);
  assert.deepEqual(Object.keys(stamp.builds).sort(), [
    'kernels-fma.wasm',
    'kernels-st-fma.wasm',
    'kernels-st.wasm',
    'kernels.wasm',
  ]);
  for (const [name, b] of Object.entries(stamp.builds)) {
    assert.match(b.cFlags, /--target=wasm32 .*-msimd128/, name);
    assert.equal(b.microKernel, name.includes('fma') ? 'fma' : 'plain', name);
    assert.equal(b.cFlags.includes('-mrelaxed-simd'), name.includes('fma'), `${name}: relaxed SIMD flag`);
    assert.equal(b.ldFlags.includes('--shared-memory'), !name.includes('-st'), `${name}: shared memory flag`);
  }
});

test('an edited kernels.c or a replaced .wasm is caught and named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-stamp-'));
  try {
    for (const f of readdirSync(NATIVE))
      if (f.startsWith('kernels') || INPUTS.includes(f)) copyFileSync(join(NATIVE, f), join(dir, f));
    assert.deepEqual(stampProblems(dir), [], 'an untouched copy passes');
    writeFileSync(join(dir, 'kernels.c'), `${readFileSync(join(dir, 'kernels.c'), 'utf8')}\n// one more line\n`);
    const wasm = readFileSync(join(dir, 'kernels-st.wasm'));
    wasm[wasm.length - 1] = (wasm[wasm.length - 1] ?? 0) ^ 1;
    writeFileSync(join(dir, 'kernels-st.wasm'), wasm);
    const problems = stampProblems(dir);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^kernels\.c changed since the \.wasm files were built/);
    assert.match(problems[1]!, /^kernels-st\.wasm does not match its stamp/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
