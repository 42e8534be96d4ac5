// How the CLI starts (issue 11): bin/mtl runs the compiled dist/ while it is up to date with src/ and the
// sources through tsx otherwise, and `--help`, `validate`, `config` and `runs` never load TF.js on either
// path. Runs in a throwaway copy of the package, whose dist/ the tests build, make stale and delete.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..');
const RECORDER = pathToFileURL(join(import.meta.dirname, 'fixtures', 'record-modules.mjs')).href;
const TFJS = /\/node_modules\/@tensorflow\//;
const LIGHT_COMMANDS = [
  ['--help'],
  ['validate', 'configs/mnist-mlp.yaml'],
  ['config', 'configs/mnist-mlp.yaml'],
  ['runs', 'ls'],
  // A sweep's coordinator plans and watches; its trials load TF.js in their own processes.
  ['sweep', 'configs/mnist-mlp.yaml', '--param', 'trainer.optimizer.lr=0.001,0.003', '--dry-run'],
];

interface Started {
  code: number | null;
  stdout: string;
  stderr: string;
  /** URLs of every module the process loaded (test/cli/fixtures/record-modules.mjs). */
  modules: string[];
  /** Those that passed the ES module loader (an ES import, or a CommonJS module an ES module imported). */
  imported: string[];
}

let pkg = '';
let logs = 0;

/** The parts of the package that bin/mtl and the build read; node_modules is linked, not copied. */
function copyPackage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-startup-'));
  for (const part of ['bin', 'scripts', 'src', 'configs', 'package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    cpSync(join(ROOT, part), join(dir, part), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  mkdirSync(join(dir, 'runs'));
  return dir;
}

function build(): void {
  const r = spawnSync(process.execPath, [join(pkg, 'scripts', 'build.mjs')], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const log = join(pkg, `modules-${logs++}.log`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', RECORDER, join(pkg, 'bin', 'mtl'), ...args], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', MTL_DEV: '0', MTL_RUNS_DIR: join(pkg, 'runs'), MTL_MODULE_LOG: log, ...env },
    timeout: 300_000,
  });
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const imported = lines.filter((l) => !l.startsWith('require '));
  const modules = [...new Set(lines.map((l) => l.replace(/^require /, '')))];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules, imported };
}

/** Which CLI entry ran: the compiled one or the TypeScript source. */
function entry(s: Started): 'dist' | 'src' | 'none' {
  if (s.modules.includes(pathToFileURL(join(pkg, 'dist', 'cli', 'main.js')).href)) return 'dist';
  if (s.modules.includes(pathToFileURL(join(pkg, 'src', 'cli', 'main.ts')).href)) return 'src';
  return 'none';
}

function assertLight(s: Started, args: string[], expected: 'dist' | 'src'): void {
  const what = `mtl ${args.join(' ')}`;
  assert.equal(s.code, 0, `${what}: ${s.stderr}`);
  assert.equal(entry(s), expected, `${what} ran the ${entry(s)} entry`);
  // The recorder saw the command's own dependencies, so an empty TF.js list means something.
  assert.ok(
    s.modules.some((m) => m.includes('/node_modules/commander/')),
    `${what}: the recorder saw no module`,
  );
  assert.deepEqual(
    s.modules.filter((m) => TFJS.test(m)),
    [],
    `${what} loaded TF.js`,
  );
}

describe('CLI start-up', () => {
  before(() => {
    pkg = copyPackage();
    build();
  });
  after(() => rmSync(pkg, { recursive: true, force: true }));

  test('after a build, bin/mtl runs dist/ and the light commands load no TF.js', () => {
    for (const args of LIGHT_COMMANDS) assertLight(start(args), args, 'dist');
    assert.match(start(['--help']).stdout, /Usage: mtl/);
    assert.match(start(['config', 'configs/mnist-mlp.yaml']).stdout, /model:/);
  });

  test('MTL_DEV=1 runs the sources through tsx, which load no TF.js for the light commands either', () => {
    for (const args of LIGHT_COMMANDS) assertLight(start(args, { MTL_DEV: '1' }), args, 'src');
  });

  test('control: doctor loads TF.js (required, not imported), and the wasm kernels copied into dist/', () => {
    const s = start(['doctor', '--json']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(entry(s), 'dist');
    assert.ok(
      s.modules.some((m) => m.includes('/node_modules/@tensorflow/tfjs-core/')),
      'tfjs-core not loaded',
    );
    // Through require() (engine/backend/tfjs.cjs): an ES import would have Node lex TF.js's bundles.
    assert.deepEqual(
      s.imported.filter((m) => TFJS.test(m)),
      [],
      'TF.js passed the ES module loader',
    );
    // doctor initialises the wasm backend, which reads mtl's kernels next to dist/engine/native/runtime.js.
    const doctor = JSON.parse(s.stdout) as { selected: { name: string; kernels?: string } };
    assert.equal(doctor.selected.name, 'wasm');
    assert.match(doctor.selected.kernels ?? '', /^simd/);
  });

  test('an edited or added source makes dist/ stale: bin/mtl runs the sources instead', () => {
    const file = join(pkg, 'src', 'cli', 'output.ts');
    const { atime, mtime } = statSync(file);
    utimesSync(file, new Date(), new Date());
    assertLight(start(['--help']), ['--help'], 'src');
    utimesSync(file, atime, mtime); // the same file, unedited again: dist/ is fresh
    assertLight(start(['--help']), ['--help'], 'dist');

    const dir = join(pkg, 'src', 'config');
    const built = statSync(dir);
    writeFileSync(join(dir, 'new-module.ts'), 'export const x = 1;\n');
    assertLight(start(['--help']), ['--help'], 'src');
    rmSync(join(dir, 'new-module.ts'));
    utimesSync(dir, built.atime, built.mtime); // the folder as built again
    assertLight(start(['--help']), ['--help'], 'dist');
  });

  test('without dist/, bin/mtl runs the sources', () => {
    rmSync(join(pkg, 'dist'), { recursive: true });
    assertLight(start(['validate', 'configs/mnist-mlp.yaml']), ['validate', 'configs/mnist-mlp.yaml'], 'src');
  });
});
