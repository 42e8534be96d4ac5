// Writes kernels.stamp.json, how the committed kernels*.wasm were built: the sha256 of every input
// build.sh compiles from, the clang and wasm-ld versions, each build's flags and the sha256 of each
// output. build.sh runs it last; test/engine/stamp.test.ts fails when an input changed without a rebuild.
//   node --import tsx write-stamp.ts <builds.tsv> <clang --version line> <wasm-ld --version line>
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STAMP_FILE = 'kernels.stamp.json';
/** Every file whose bytes reach a .wasm: the C source, its generated header, the sgemm loop's generator
 *  and the script that holds the flags and the relaxed-SIMD opcode rewrite. */
export const STAMP_SOURCES = ['kernels.c', 'kernels-ops.h', 'micro-kernel.mjs', 'build.sh'] as const;

export interface WasmBuild {
  /** micro-kernel.mjs's variant: the 4x8 tile (`plain`) or the 6x8 fused multiply-add one (`fma`). */
  microKernel: string;
  /** clang flags for kernels.c, for the micro-kernel's assembly, and wasm-ld's flags. */
  cFlags: string;
  asmFlags: string;
  ldFlags: string;
  bytes: number;
  sha256: string;
}

export interface KernelStamp {
  clang: string;
  wasmLd: string;
  /** sha256 of each input (STAMP_SOURCES), by file name in this folder. */
  sources: Record<string, string>;
  /** One entry per .wasm file. */
  builds: Record<string, WasmBuild>;
}

const here = (name: string): URL => new URL(`./${name}`, import.meta.url);
const sha256 = (name: string): string =>
  createHash('sha256')
    .update(readFileSync(here(name)))
    .digest('hex');
/** Flags as one space-separated string (build.sh leaves double spaces where an option is empty). */
const words = (flags: string): string => flags.trim().split(/\s+/).join(' ');

/** The stamp for the files in this folder now, with the builds listed in build.sh's tsv lines. */
export function makeStamp(buildsTsv: string, clang: string, wasmLd: string): KernelStamp {
  const builds: Record<string, WasmBuild> = {};
  for (const line of buildsTsv.split('\n').filter((l) => l.trim() !== '')) {
    const [file, microKernel, cFlags, asmFlags, ldFlags] = line.split('\t');
    if (!file || !microKernel || cFlags === undefined || asmFlags === undefined || ldFlags === undefined)
      throw new Error(`write-stamp: malformed build line '${line}'`);
    builds[file] = {
      microKernel,
      cFlags: words(cFlags),
      asmFlags: words(asmFlags),
      ldFlags: words(ldFlags),
      bytes: readFileSync(here(file)).length,
      sha256: sha256(file),
    };
  }
  const sources = Object.fromEntries(STAMP_SOURCES.map((name) => [name, sha256(name)]));
  return { clang: clang.trim(), wasmLd: wasmLd.trim(), sources, builds };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [tsv, clang, wasmLd] = process.argv.slice(2);
  if (!tsv || !clang || !wasmLd)
    throw new Error('usage: write-stamp.ts <builds.tsv> <clang version> <wasm-ld version>');
  const stamp = makeStamp(readFileSync(tsv, 'utf8'), clang, wasmLd);
  writeFileSync(here(STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}
