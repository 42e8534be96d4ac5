// The runtime of mtl's own compute kernels (native/kernels*.wasm). Two ways to run them:
//  - onHost: one thread, directly on tfjs-backend-wasm's heap: operands are used in place, results
//    written straight into the output tensors (no copies).
//  - create: N threads on a shared memory of its own (the tfjs heap cannot be shared): operands are
//    copied in and results out, and worker threads claim chunks of each call.
// Each comes in two builds (build.sh): plain SIMD, and FMA (relaxed SIMD's fused multiply-add,
// a 6x8 sgemm tile) where the engine has relaxed SIMD and MTL_FMA is not 0.
import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { countKernelCall } from '../kernels/calls.ts';
import { physicalCores } from './cores.ts';
import { CALL, CLOSED, CTRL, PARAM_WORDS } from './op-codes.ts';
import { WorkerPool } from './pool.ts';

const KERNEL_FILES = {
  simd: { shared: 'kernels.wasm', single: 'kernels-st.wasm' },
  'simd-fma': { shared: 'kernels-fma.wasm', single: 'kernels-st-fma.wasm' },
} as const;
export type KernelVariant = keyof typeof KERNEL_FILES;
const PAGE = 65536;
/** Matches build.sh's --max-memory for kernels.wasm (2 GiB). */
const MAX_SHARED_PAGES = 32768;
/** Per-thread stack for the kernels' spills (they use a few hundred bytes). */
const STACK_BYTES = 64 * 1024;
/** Most threads used by default; these models are small. */
const DEFAULT_MAX_THREADS = 4;
/** Polls of the done counter before the calling thread sleeps on it (a few microseconds). */
const SPIN_POLLS = 2000;

/** kernelCalls counter of the calls that woke the workers (tests: the parallel path ran). */
export const PARALLEL_CALL = 'native:parallel';

interface KernelExports {
  run(params: number, tid: number): void;
  run_here(params: number, call: number): void;
  gemm_workspace(): number;
  __stack_pointer: WebAssembly.Global;
  __heap_base: WebAssembly.Global;
}

/** Where scratch space comes from: a bump region of our own memory, or tfjs's malloc. */
interface Heap {
  alloc(bytes: number): number;
  mark(): number;
  release(mark: number): void;
}

/** An output: written in place when it lives in the kernels' memory, else staged and copied back. */
export interface Target {
  addr: number;
  out: Float32Array;
  inPlace: boolean;
}

export class NativeRuntime {
  readonly threads: number;
  /** Whether operands are used in place (onHost) rather than copied. */
  readonly zeroCopy: boolean;
  /** Per-thread workspace (threads × workFloats floats): gemm's packed blocks, the direct convolutions' padded images. */
  readonly workPtr: number;
  readonly workFloats: number;
  private readonly paramsPtr: number;
  private readonly base: number;
  private call = 0;
  private f32: Float32Array;
  private i32: Int32Array;

  private constructor(
    private readonly exports: KernelExports,
    private readonly memory: WebAssembly.Memory,
    private readonly heap: Heap,
    private readonly pool: WorkerPool | null,
    zeroCopy: boolean,
  ) {
    this.threads = 1 + (pool?.size ?? 0);
    this.zeroCopy = zeroCopy;
    this.paramsPtr = heap.alloc(PARAM_WORDS * 4);
    this.workFloats = exports.gemm_workspace();
    this.workPtr = heap.alloc(this.workFloats * 4 * this.threads);
    this.base = heap.mark();
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    Atomics.store(this.i32, (this.paramsPtr >> 2) + CTRL.COUNTER, CLOSED);
  }

  /** `threads` threads on a shared memory of their own; resolves once every worker is ready.
   *  `spinningWorkers`: tests only (WorkerPool's `spin`). */
  static async create(threads = defaultThreads(), spinningWorkers = false): Promise<NativeRuntime> {
    const module = new WebAssembly.Module(kernelBytes('shared'));
    const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_SHARED_PAGES, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    // Layout above __heap_base: worker stacks (thread 0 uses the module's own stack below it), then the bump heap.
    const stacksBase = align(exports.__heap_base.value as number);
    const stackTops = Array.from({ length: Math.max(1, threads) - 1 }, (_, i) => stacksBase + STACK_BYTES * (i + 1));
    const heap = new BumpHeap(memory, stacksBase + STACK_BYTES * stackTops.length);
    const pool = stackTops.length ? new WorkerPool(module, memory, stackTops, spinningWorkers) : null;
    await pool?.ready();
    return new NativeRuntime(exports, memory, heap, pool, false);
  }

  /** One thread on tfjs-backend-wasm's heap (`memory` with its malloc/free): no copies at all. */
  static onHost(
    memory: WebAssembly.Memory,
    malloc: (bytes: number) => number,
    free: (ptr: number) => void,
  ): NativeRuntime {
    const module = new WebAssembly.Module(kernelBytes('single'));
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    const heap = new HostHeap(malloc, free);
    // The module's default stack would sit on tfjs's data: give it a block of the host's heap.
    exports.__stack_pointer.value = heap.alloc(STACK_BYTES) + STACK_BYTES;
    return new NativeRuntime(exports, memory, heap, null, true);
  }

  /** Start a new call: scratch of the previous call is released. */
  reset(): void {
    this.heap.release(this.base);
  }

  mark(): number {
    return this.heap.mark();
  }

  resetTo(mark: number): void {
    this.heap.release(mark);
  }

  /** Scratch for `floats` float32s; returns the byte address. May grow memory: take views after. */
  alloc(floats: number): number {
    return this.heap.alloc(Math.max(floats, 1) * 4);
  }

  /** The address of an operand: in place when it lives in this memory, else a staged copy. */
  input(data: Float32Array): number {
    if (data.buffer === this.memory.buffer) return data.byteOffset;
    const at = this.alloc(data.length);
    this.heapF32().set(data, at >> 2);
    return at;
  }

  /** Resolve every output before any alloc() (which may move the memory and detach views). */
  output(out: Float32Array): Target {
    if (out.buffer === this.memory.buffer) return { addr: out.byteOffset, out, inPlace: true };
    return { addr: this.alloc(out.length), out, inPlace: false };
  }

  /** Copy a staged result into its destination (nothing to do when it was written in place). */
  deliver(t: Target): void {
    if (!t.inPlace) t.out.set(this.view(t.addr, t.out.length));
  }

  /** A view of `floats` float32s at byte address `at` (valid until the next alloc). */
  view(at: number, floats: number): Float32Array {
    return this.heapF32().subarray(at >> 2, (at >> 2) + floats);
  }

  /** A view of `count` bytes at byte address `at` (valid until the next alloc). */
  viewBytes(at: number, count: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, count);
  }

  /** A view of `count` float64s at byte address `at`, 8-byte aligned (valid until the next alloc). */
  viewF64(at: number, count: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, count);
  }

  /** A view of `count` int32s at byte address `at` (valid until the next alloc). */
  viewI32(at: number, count: number): Int32Array {
    return this.heapI32().subarray(at >> 2, (at >> 2) + count);
  }

  /**
   * Write the params block (i32 words; addresses are plain numbers) and run the kernel. With
   * `parallel`, the workers are woken to claim chunks too; the call returns when every chunk is done.
   * The counter is closed outside a parallel call (kernels.c `run`): a worker that wakes late never
   * takes part in a later call on the calling thread alone, nor acts on parameters as they are written.
   */
  run(params: number[], parallel: boolean): void {
    const words = this.heapI32();
    const p = this.paramsPtr >> 2;
    for (let i = 0; i < params.length; i++) words[p + i] = params[i]!;
    this.call = (this.call + 1) & 0x7fffffff;
    const call = this.call;
    words[p + CTRL.THREADS] = this.threads;
    words[p + CTRL.CALL] = call;
    const pool = parallel ? this.pool : null;
    if (!pool) {
      this.exports.run_here(this.paramsPtr, call);
      return;
    }
    countKernelCall(PARALLEL_CALL);
    words[p + CTRL.DONE] = 0;
    // Opening the counter publishes every word written above to the workers that see it open.
    Atomics.store(words, p + CTRL.COUNTER, (call & CALL.MASK) << CALL.SHIFT);
    pool.wake(call, this.paramsPtr);
    this.exports.run(this.paramsPtr, 0);
    this.waitForWorkers(words, p);
    Atomics.store(words, p + CTRL.COUNTER, CLOSED);
  }

  /** Chunks a worker claimed may still be running: spin briefly, then sleep on the done counter. */
  private waitForWorkers(words: Int32Array, p: number): void {
    const chunks = Atomics.load(words, p + CTRL.CHUNKS);
    for (let i = 0; i < SPIN_POLLS && Atomics.load(words, p + CTRL.DONE) < chunks; i++);
    for (let done = Atomics.load(words, p + CTRL.DONE); done < chunks; done = Atomics.load(words, p + CTRL.DONE)) {
      Atomics.wait(words, p + CTRL.DONE, done, 100);
    }
  }

  /** Stop the workers (tests; a process may also simply exit: workers are unref'd). */
  async dispose(): Promise<void> {
    await this.pool?.dispose();
  }

  private heapF32(): Float32Array {
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  private heapI32(): Int32Array {
    if (this.i32.buffer !== this.memory.buffer) this.i32 = new Int32Array(this.memory.buffer);
    return this.i32;
  }
}

/** Bump allocation in our own shared memory, growing it as needed (it never shrinks). */
class BumpHeap implements Heap {
  private top: number;
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = align(base);
  }
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes);
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      const pages = Math.ceil((this.top - have) / PAGE);
      if (have / PAGE + pages > MAX_SHARED_PAGES)
        throw new Error(`native kernels: a call needs more than ${MAX_SHARED_PAGES / 16} MiB`);
      this.memory.grow(pages);
    }
    return at;
  }
  mark(): number {
    return this.top;
  }
  release(mark: number): void {
    this.top = mark;
  }
}

/** Scratch from tfjs-backend-wasm's malloc; released blocks go back with free. */
class HostHeap implements Heap {
  private readonly blocks: number[] = [];
  constructor(
    private readonly malloc: (bytes: number) => number,
    private readonly free: (ptr: number) => void,
  ) {}
  alloc(bytes: number): number {
    const raw = this.malloc(bytes + 64) >>> 0;
    if (raw === 0) throw new Error(`native kernels: out of memory allocating ${bytes} bytes`);
    this.blocks.push(raw);
    return align(raw);
  }
  mark(): number {
    return this.blocks.length;
  }
  release(mark: number): void {
    while (this.blocks.length > mark) this.free(this.blocks.pop()!);
  }
}

function align(bytes: number): number {
  return (bytes + 63) & ~63;
}

/**
 * MTL_THREADS overrides. Otherwise one thread per physical core this process may use (cores.ts: SMT
 * siblings counted once), up to DEFAULT_MAX_THREADS. On the 2-vCPU machine of bench/RESULTS.md (two
 * cores, no SMT) a second thread trains the CNN 1.3x and MultiLeNet 1.4x faster per epoch, the same
 * bits; the small MLP steps run on one thread beside the workers either way (2026-12-01).
 */
export function defaultThreads(): number {
  const env = Number(process.env.MTL_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(physicalCores(), DEFAULT_MAX_THREADS));
}

let variant: KernelVariant | null = null;

function kernelFile(v: KernelVariant, kind: 'shared' | 'single'): URL {
  return new URL(`./${KERNEL_FILES[v][kind]}`, import.meta.url);
}

function kernelBytes(kind: 'shared' | 'single'): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(kernelFile(kernelVariant(), kind)));
}

/**
 * Which build of the kernels runs, decided once per process. `simd-fma` needs WebAssembly relaxed
 * SIMD: shipped from Node 22 (V8 11.4); Node 20's V8 has it behind --experimental-wasm-relaxed-simd,
 * which is switched on here, before any module is compiled. It also needs a CPU with fused
 * multiply-add (x86-64 FMA3 since 2013, every arm64): elsewhere V8 would split each madd into a
 * multiply and an add, slower than the plain 4x8 tile. MTL_FMA=0 forces the plain build; results of
 * the two differ in the last bits (one rounding per multiply-add instead of two).
 */
export function kernelVariant(): KernelVariant {
  variant ??= process.env.MTL_FMA === '0' || !cpuHasFma() || !relaxedSimd() ? 'simd' : 'simd-fma';
  return variant;
}

function relaxedSimd(): boolean {
  const bytes = new Uint8Array(readFileSync(kernelFile('simd-fma', 'single')));
  if (WebAssembly.validate(bytes)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

function cpuHasFma(): boolean {
  if (arch() !== 'x64' || platform() !== 'linux') return true;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return true;
  }
}
