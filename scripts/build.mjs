#!/usr/bin/env node
// Compiles src/ to plain JavaScript in dist/ (`npm run build`; `npm ci` runs it as `prepare`, `npm test` as
// `pretest`), so bin/mtl starts compiled code instead of transpiling TypeScript on every start.
// Usage: node scripts/build.mjs [--if-possible]   (--if-possible: without TypeScript installed, e.g.
// `npm ci --omit=dev`, say so and exit 0; bin/mtl then runs the sources through tsx)
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const OUT = join(ROOT, 'dist');
const CONFIG = join(ROOT, 'tsconfig.build.json');
/** Read by bin/mtl: dist/ is used only while no file listed here is newer than `builtAt`. */
const STAMP = join(OUT, 'build-stamp.json');

/** Every file and folder under src/, relative to the repository root (POSIX separators). */
function listSources() {
  const files = [];
  const dirs = ['src'];
  for (const e of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    const rel = relative(ROOT, join(e.parentPath, e.name)).split('\\').join('/');
    if (e.isDirectory()) dirs.push(rel);
    else if (e.isFile()) files.push(rel);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

async function loadTypeScript(ifPossible) {
  try {
    return (await import('typescript')).default;
  } catch (err) {
    if (!ifPossible) throw err;
    process.stderr.write(
      'mtl build: TypeScript is not installed (dev dependencies omitted); bin/mtl will run src/ via tsx\n',
    );
    return null;
  }
}

/** TypeScript's own per-file emitter (what tsc emits for an isolatedModules project, which tsconfig.json
 *  enforces): `.ts` import specifiers become `.js` (rewriteRelativeImportExtensions). Type checking is
 *  `npm run typecheck`'s job; skipping it here makes the build take seconds, not tens of seconds. */
function compile(ts) {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    CONFIG,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail },
  );
  if (!parsed || parsed.errors.length > 0) fail(parsed?.errors[0]);
  // ESM output whatever package.json says: transpileModule cannot read it, and would default to CommonJS.
  const options = {
    ...parsed.options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  // Declaration files (tfjs.d.cts types tfjs.cjs) emit nothing: the typecheck reads them from src/.
  const modules = parsed.fileNames.filter((f) => !/\.d\.[cm]?ts$/.test(f));
  for (const file of modules) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: options,
      fileName: file,
      reportDiagnostics: true,
    });
    if (out.diagnostics?.length) fail(out.diagnostics[0]);
    const target = join(OUT, relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  return modules.length;
}

function fail(diagnostic) {
  const text =
    typeof diagnostic?.messageText === 'string' ? diagnostic.messageText : JSON.stringify(diagnostic?.messageText);
  process.stderr.write(`mtl build: ${diagnostic?.file?.fileName ?? CONFIG}: ${text}\n`);
  process.exit(1);
}

/** Files the code reads next to itself at run time (the .wasm kernels, the benchmark's RSS probe, …):
 *  copied to the same place under dist/ so `new URL('./x', import.meta.url)` finds them there too. */
function copyAssets(files) {
  const assets = files.filter((f) => !/\.[cm]?ts$/.test(f));
  for (const rel of assets) {
    const target = join(OUT, relative('src', rel));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(ROOT, rel), target);
  }
  return assets.length;
}

const ifPossible = process.argv.includes('--if-possible');
// Taken before any source is read: a file edited during the build counts as newer than dist/.
const builtAt = Date.now();
const ts = await loadTypeScript(ifPossible);
if (ts) {
  rmSync(OUT, { recursive: true, force: true }); // no stamp until the build has finished: bin/mtl falls back meanwhile
  const sources = listSources();
  const compiled = compile(ts);
  const copied = copyAssets(sources.files);
  // dist/ is ES modules whatever is above it; Node also stops its package.json search here.
  writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n');
  const inputs = [...sources.files, 'tsconfig.build.json', 'scripts/build.mjs'];
  writeFileSync(STAMP, `${JSON.stringify({ builtAt, files: inputs, dirs: sources.dirs })}\n`);
  process.stderr.write(`mtl build: ${compiled} modules and ${copied} assets → dist/\n`);
}
