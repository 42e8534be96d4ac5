// The processes trials run in. By default each sweep slot (a local lane, a worker's concurrency slot)
// keeps a trial host (host-serve.ts) and hands it trials one after another; with MTL_TRIAL_HOST=0, and
// for `mtl resume` attempts (whose run lock lasts as long as the process), each trial is a one-shot
// `mtl train` child. Either way the child runs under trial-guard.mjs, which kills it when its parent
// dies, and with MTL_THREADS = the slot's share of the cores. Hosts can be started before their first
// trial is known (HostPool.prestart): a host loads the training code as soon as it starts, so that
// load overlaps whatever its parent does meanwhile (reading and planning a sweep, connecting to Redis).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultThreads } from '../engine/native/runtime.ts';
import { EXIT } from '../errors.ts';
import { type HostMessage, TRIAL_END } from './host-serve.ts';

/** Kernel threads per trial: the cores mtl would use for one run, shared by `jobs` trials. */
export function threadsPerTrial(jobs: number): number {
  return Math.max(1, Math.floor(defaultThreads() / jobs));
}

/** A trial's process output: its exit code (null: killed), its stdout, and the tail of its stderr. */
export interface TrialOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running trial: `stop` ends it after its current step (marked interrupted), `done` when it ended. */
export interface TrialProcess {
  stop(): void;
  done: Promise<TrialOutput>;
}

const BIN = fileURLToPath(new URL('../../bin/mtl', import.meta.url));
const GUARD = fileURLToPath(new URL('./trial-guard.mjs', import.meta.url));
const STDERR_TAIL = 8192;

function spawnGuarded(args: string[], threads: number): ChildProcess {
  const child = spawn(process.execPath, [GUARD, process.execPath, BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, MTL_THREADS: String(threads), NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  // Closing our end of the guard's stdin kills the trial: it stays open until the child ends.
  child.stdin?.on('error', () => {});
  return child;
}

/** `mtl <args>` in a child process of its own. */
export function spawnTrial(args: string[], threads: number): TrialProcess {
  const child = spawnGuarded(args, threads);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => stdout.push(b));
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-STDERR_TAIL);
  });
  const done = new Promise<TrialOutput>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr })),
  );
  return { stop: () => void child.kill('SIGINT'), done };
}

/** The trial running in a host: its output so far, and whether each stream has reached its end record. */
interface HostRun {
  n: number;
  /** The process it was sent to: a retired process's last output and exit are not this run's. */
  child: ChildProcess;
  stdout: string;
  stderr: string;
  code: number | null;
  outEnded: boolean;
  errEnded: boolean;
  resolve(o: TrialOutput): void;
}

/** One slot's trial host, started on first use and again after it died or was retired. */
export class TrialHost {
  private child: ChildProcess | null = null;
  private run: HostRun | null = null;
  private n = 0;
  /** What the current process ran trials for: a process keeps the TF.js backend it first loaded (null:
   *  no trial yet, so any backend may still be chosen). */
  private key: string | null = null;

  constructor(private readonly threads: number) {}

  /** Starts the process now, before any trial: it loads the training code while it waits for one. */
  prestart(): void {
    if (!this.child) this.spawn();
  }

  /**
   * Runs `mtl <args>` in the host; one trial at a time. `key` names what a process cannot change once
   * loaded (the trial's backend): a trial with another key gets a fresh process.
   */
  start(args: string[], key: string): TrialProcess {
    if (this.run) throw new Error('trial host: a trial is already running');
    if (this.child && this.key !== null && this.key !== key) this.close();
    this.key = key;
    const child = this.child ?? this.spawn();
    const n = ++this.n;
    const done = new Promise<TrialOutput>((resolve) => {
      this.run = { n, child, stdout: '', stderr: '', code: null, outEnded: false, errEnded: false, resolve };
    });
    this.send(child, { run: n, args });
    return { stop: () => this.run?.n === n && this.send(child, { stop: n }), done };
  }

  /** Ends the host process (idle: at once; it holds no run). */
  close(): void {
    this.child?.stdin?.end();
    this.child = null;
    this.key = null;
  }

  private send(child: ChildProcess, msg: HostMessage): void {
    child.stdin?.write(`${JSON.stringify(msg)}\n`);
  }

  private spawn(): ChildProcess {
    const child = spawnGuarded(['trial-host'], this.threads);
    this.child = child;
    this.key = null;
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      out = this.take(child, out + s, 'stdout');
    });
    child.stderr?.on('data', (s: string) => {
      err = this.take(child, err + s, 'stderr');
    });
    child.on('close', (code) => {
      if (this.child === child) this.child = null;
      const run = this.run;
      if (run?.child !== child) return;
      // The host died mid-trial (killed, out of memory): the trial ends with the host's exit code.
      run.stdout += out;
      run.stderr = (run.stderr + err).slice(-STDERR_TAIL);
      this.finish(run, run.outEnded ? run.code : (code ?? null));
    });
    return child;
  }

  /** Moves a stream's text into the running trial up to its end record; returns what is left over. */
  private take(child: ChildProcess, text: string, stream: 'stdout' | 'stderr'): string {
    for (;;) {
      const run = this.run?.child === child ? this.run : null;
      const at = text.indexOf(TRIAL_END);
      const eol = at < 0 ? -1 : text.indexOf('\n', at);
      if (!run || eol < 0) {
        if (!run) return text;
        // No complete end record yet: hand over everything before a possible partial one.
        const keep = at < 0 ? text.length : at;
        this.append(run, stream, text.slice(0, keep));
        return text.slice(keep);
      }
      this.append(run, stream, text.slice(0, at).replace(/\n$/, ''));
      const record = JSON.parse(text.slice(at + 1, eol)) as { end: number; code?: number };
      if (stream === 'stdout') {
        run.code = record.code ?? null;
        run.outEnded = true;
      } else run.errEnded = true;
      text = text.slice(eol + 1);
      if (run.outEnded && run.errEnded) this.finish(run, run.code);
    }
  }

  private append(run: HostRun, stream: 'stdout' | 'stderr', text: string): void {
    if (stream === 'stdout') run.stdout += text;
    else run.stderr = (run.stderr + text).slice(-STDERR_TAIL);
  }

  private finish(run: HostRun, code: number | null): void {
    if (this.run !== run) return;
    this.run = null;
    // After a crash the process may hold half-built state: the next trial gets a fresh one.
    if (code !== EXIT.OK && code !== EXIT.INTERRUPTED && code !== EXIT.USAGE && code !== EXIT.INVALID_INPUT) {
      this.close();
    }
    run.resolve({ code, stdout: run.stdout, stderr: run.stderr });
  }
}

/** Trial hosts for a sweep's or worker's slots: one per trial running at once, reused after. */
export class HostPool {
  private readonly idle: TrialHost[] = [];
  private readonly all: TrialHost[] = [];

  constructor(private readonly threads: number) {}

  /** Whether trials run in hosts at all (MTL_TRIAL_HOST=0: a process per trial). */
  static enabled(): boolean {
    return process.env.MTL_TRIAL_HOST !== '0';
  }

  /** Starts `n` idle hosts now (their processes load the training code while the caller goes on). */
  prestart(n: number): this {
    for (let i = 0; i < n; i++) {
      const host = new TrialHost(this.threads);
      host.prestart();
      this.idle.push(host);
      this.all.push(host);
    }
    return this;
  }

  /** Ends idle hosts beyond `n` (prestarted for more lanes than there turned out to be trials). */
  trim(n: number): void {
    while (this.idle.length > n) this.idle.shift()!.close();
  }

  acquire(): TrialHost {
    const host = this.idle.pop() ?? new TrialHost(this.threads);
    if (!this.all.includes(host)) this.all.push(host);
    return host;
  }

  release(host: TrialHost): void {
    this.idle.push(host);
  }

  closeAll(): void {
    for (const host of this.all) host.close();
  }
}
