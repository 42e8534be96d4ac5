// `mtl doctor`: which backends are installed and which one `auto` picks, GPU use, versions, data.
import { createRequire } from 'node:module';
import chalk from 'chalk';
import { resolveCacheDir } from '../data/cache.ts';
import { listDatasets } from '../data/registry.ts';
import { backendRecord, initBackend, packageVersion } from '../engine/backend/backend.ts';
import { printJson, say, table } from './output.ts';

const require = createRequire(import.meta.url);
const BACKEND_PACKAGES = [
  ['@tensorflow/tfjs-node-gpu', 'tensorflow (CUDA 11.2 + cuDNN 8.1)'],
  ['@tensorflow/tfjs-node', 'tensorflow (native CPU)'],
  ['@tensorflow/tfjs-backend-wasm', 'wasm (embedded default)'],
  ['@tensorflow/tfjs-backend-cpu', 'cpu (pure JS)'],
] as const;

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

export async function doctorCommand(options: { json?: boolean }): Promise<void> {
  const packages = BACKEND_PACKAGES.map(([pkg, role]) => ({
    package: pkg,
    role,
    installed: installed(pkg),
    version: packageVersion(pkg),
  }));
  const backend = await initBackend('auto');
  const datasets = listDatasets();
  const report = {
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backends: packages,
    selected: { ...backendRecord(backend), package: backend.package, skipped: backend.skipped },
    versions: backend.versions,
    datasets,
    cacheDir: resolveCacheDir(),
  };
  if (options.json) {
    printJson(report);
    return;
  }
  say(chalk.bold('Backends') + chalk.dim('  (auto tries them top to bottom)'));
  say(
    table(
      ['package', 'role', 'installed'],
      packages.map((p) => [p.package, p.role, p.installed ? chalk.green(p.version ?? 'yes') : chalk.dim('no')]),
    ),
  );
  say(
    `\nauto selects: ${chalk.bold(backend.name)} (${backend.package})  GPU: ${backend.gpu ? chalk.green('yes') : 'no'}`,
  );
  if (backend.kernels) {
    const fma =
      backend.kernels === 'simd-fma' ? 'SIMD with fused multiply-add' : 'SIMD (no relaxed-SIMD FMA here, or MTL_FMA=0)';
    say(`mtl's wasm kernels: ${fma}, ${backend.threads ?? 1} thread${backend.threads === 1 ? '' : 's'} (MTL_THREADS)`);
  }
  for (const s of backend.skipped) say(chalk.dim(`  skipped ${s}`));
  say(`\n${chalk.bold('Data')}`);
  say(
    table(
      ['dataset', 'source', 'installed'],
      datasets.map((d) => [
        d.name,
        d.package ?? 'local files',
        d.installed ? chalk.green(d.version ?? 'yes') : chalk.red('missing'),
      ]),
    ),
  );
  say(`decoded cache: ${report.cacheDir}`);
  say(`\nnode ${report.node} on ${report.platform}; tfjs ${backend.versions['tfjs-core'] ?? '?'}`);
}
