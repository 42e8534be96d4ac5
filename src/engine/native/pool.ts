// Worker threads for the native kernels: each instantiates kernels.wasm on the same shared memory and,
// when woken, claims chunks of the current call (kernels.c `run`) until none is left.
import { Worker } from 'node:worker_threads';

/** The worker's whole program (eval'd, so it needs no loader and no file of its own). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, tid, stackTop, spin } = workerData;
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
k.__stack_pointer.value = stackTop;
const c = new Int32Array(control);
Atomics.add(c, 2, 1);
Atomics.notify(c, 2);
let seen = 0;
while (spin && Atomics.load(c, 3) !== 1) {
  const params = Atomics.load(c, 1);
  if (params) k.run(params, tid);
}
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  if (Atomics.load(c, 3) === 1) break;
  k.run(c[1], tid);
}`;

const START_TIMEOUT_MS = 10_000;

export class WorkerPool {
  /** [call number of the last parallel call, params address, workers started, shutdown]. */
  private readonly control = new Int32Array(new SharedArrayBuffer(16));
  private readonly workers: Worker[] = [];

  /**
   * Start one worker per stack top (its thread id is its index + 1; the caller is thread 0). With
   * `spin` (tests only), workers call `run` over and over instead of sleeping until woken: they turn
   * up at every moment of every call, as a worker woken late or early could.
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, stackTops: number[], spin = false) {
    stackTops.forEach((stackTop, i) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: this.control.buffer, tid: i + 1, stackTop, spin },
      });
      worker.unref(); // idle workers never keep the process alive
      worker.on('error', () => {
        /* a worker that died is reported by ready()'s timeout */
      });
      this.workers.push(worker);
    });
  }

  get size(): number {
    return this.workers.length;
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Atomics.load(this.control, 2) < this.workers.length) {
      if (Date.now() > deadline) {
        throw new Error(
          `native kernels: only ${Atomics.load(this.control, 2)} of ${this.workers.length} worker threads started`,
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Wake every worker to claim chunks of call `call` (params at `paramsPtr`). */
  wake(call: number, paramsPtr: number): void {
    this.control[1] = paramsPtr;
    Atomics.store(this.control, 0, call);
    Atomics.notify(this.control, 0);
  }

  async dispose(): Promise<void> {
    Atomics.store(this.control, 3, 1);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
