// Backend resolution (docs/design.md, "Backends"): auto = tfjs-node-gpu → tfjs-node → wasm → cpu.
// Records which backend runs, whether it uses a GPU, and the versions involved.
import { createRequire } from 'node:module';
import { BACKENDS } from '../../config/names.ts';
import type { BackendName } from '../../config/types.ts';
import { EnvironmentError, UsageError } from '../../errors.ts';
import { installWasmKernels } from '../kernels/register.ts';
import { defaultThreads, type KernelVariant, kernelVariant, NativeRuntime } from '../native/runtime.ts';
import { tf } from './tf.ts';

export const BACKEND_NAMES: readonly BackendName[] = BACKENDS;

export interface BackendInfo {
  /** The tfjs backend actually in use: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** True only when tfjs-node-gpu reports a CUDA device in use. */
  gpu: boolean;
  /** The npm package that provides the backend. */
  package: string;
  versions: Record<string, string>;
  /** Why earlier candidates of `auto` were skipped (for `mtl doctor` and --debug). */
  skipped: string[];
  /** Threads mtl's own kernels use (wasm only; MTL_THREADS overrides). */
  threads?: number;
  /** Build of mtl's wasm kernels: `simd`, or `simd-fma` with relaxed SIMD's fused multiply-add (MTL_FMA=0 turns it off). */
  kernels?: KernelVariant;
}

/** What run.json and summary.json record of the backend: results depend on all of it (the FMA kernels
 *  round differently from the plain ones). */
export interface BackendRecord {
  name: string;
  gpu: boolean;
  /** wasm only: the build of mtl's kernels and their thread count. */
  kernels?: KernelVariant;
  threads?: number;
}

export function backendRecord(b: BackendInfo): BackendRecord {
  return {
    name: b.name,
    gpu: b.gpu,
    ...(b.kernels ? { kernels: b.kernels } : {}),
    ...(b.threads !== undefined ? { threads: b.threads } : {}),
  };
}

export interface BackendOptions {
  requireGpu?: boolean;
}

const require = createRequire(import.meta.url);
const MTL_VERSION = (require('../../../package.json') as { version: string }).version;
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let current: BackendInfo | null = null;

/** Initialise the requested backend once per process; later calls must ask for the same one. */
export async function initBackend(requested: BackendName, options: BackendOptions = {}): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new UsageError(`unknown backend '${requested}' (expected one of: ${BACKEND_NAMES.join(', ')})`);
  }
  if (!current) current = await selectBackend(requested);
  else if (requested !== 'auto' && requested !== current.name) {
    throw new EnvironmentError(
      `backend '${current.name}' is already initialised in this process; cannot switch to '${requested}'`,
    );
  }
  if (options.requireGpu && !current.gpu) {
    throw new EnvironmentError(
      `--require-gpu: the '${current.name}' backend does not use a GPU. Install @tensorflow/tfjs-node-gpu@${tfVersion()} ` +
        'with CUDA 11.2 and cuDNN 8.1 (it silently falls back to the CPU without them).',
    );
  }
  return current;
}

async function selectBackend(requested: BackendName): Promise<BackendInfo> {
  silenceTfjsBanners();
  const skipped: string[] = [];
  if (requested === 'auto' || requested === 'tensorflow') {
    for (const pkg of NATIVE_PACKAGES) {
      const reason = await tryNative(pkg);
      if (reason === null) return describe('tensorflow', pkg, skipped);
      skipped.push(`${pkg}: ${reason}`);
    }
    if (requested === 'tensorflow') {
      throw new EnvironmentError(
        `backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu ${tfVersion()} ` +
          `(npm install @tensorflow/tfjs-node@${tfVersion()}); ${skipped.join('; ')}`,
      );
    }
  }
  if (requested === 'auto' || requested === 'wasm') {
    const reason = await tryWasm();
    if (reason === null) return describe('wasm', '@tensorflow/tfjs-backend-wasm', skipped);
    if (requested === 'wasm') throw new EnvironmentError(`backend 'wasm' failed to load: ${reason}`);
    skipped.push(`@tensorflow/tfjs-backend-wasm: ${reason}`);
  }
  if (!(await tf.setBackend('cpu'))) throw new EnvironmentError('the cpu backend failed to initialise');
  return describe('cpu', '@tensorflow/tfjs-backend-cpu', skipped);
}

/** Returns null when the native package loaded and its backend is active, else why not. */
async function tryNative(pkg: string): Promise<string | null> {
  try {
    require.resolve(pkg);
  } catch {
    return 'not installed';
  }
  try {
    require(pkg); // not import(): see tfjs.cjs
    const ok = await tf.setBackend('tensorflow');
    return ok ? null : 'backend failed to initialise';
  } catch (err) {
    return `failed to load (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Threads of mtl's wasm kernels (1: on the backend's own heap, no copies). */
let kernelThreads = 1;

async function tryWasm(): Promise<string | null> {
  try {
    require('@tensorflow/tfjs-backend-wasm'); // not import(): see tfjs.cjs
    kernelThreads = defaultThreads();
    installWasmKernels(kernelThreads > 1 ? await NativeRuntime.create(kernelThreads) : null);
    const ok = await tf.setBackend('wasm');
    return ok ? null : 'backend failed to initialise';
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'unknown error';
  }
}

function describe(name: string, pkg: string, skipped: string[]): BackendInfo {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  const versions: Record<string, string> = { mtl: MTL_VERSION, ...tf.version, node: process.versions.node };
  const pkgVersion = packageVersion(pkg);
  if (pkgVersion) versions[pkg] = pkgVersion;
  const info: BackendInfo = {
    name,
    gpu: name === 'tensorflow' && backend.isUsingGpuDevice === true,
    package: pkg,
    versions,
    skipped,
  };
  if (name === 'wasm') {
    info.threads = kernelThreads;
    info.kernels = kernelVariant();
  }
  return info;
}

export function packageVersion(pkg: string): string | null {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

function tfVersion(): string {
  return tf.version['tfjs-core'] ?? '4.22.0';
}

/**
 * tfjs prints "install tfjs-node to speed things up" banners through its warn(), which is silent in
 * PROD mode. PROD also skips per-op NaN debugging checks that the runner does not use.
 */
function silenceTfjsBanners(): void {
  tf.env().set('PROD', true);
}
