// A trial host: the child that `mtl sweep` and `mtl worker` keep per slot (src/sweep/hosts.ts) and
// hand trials to, one after another, instead of starting `mtl train` afresh for each. Node, TF.js
// and the kernels load once, and a trial reuses the memory the last one faulted in (a fresh
// 3-epoch MNIST MLP process took 3.7–4.5 s here, the same trial in a warm host 2.2–2.4 s). Each trial
// is the same command line a one-shot child would run, with the same results bit for bit: every run
// seeds its own generators and ends holding no tensors.
//
// Protocol, one JSON object per line. stdin: {"run": n, "args": [...]} queues a command line;
// {"stop": n} stops trial n after its current step, as SIGINT stops a run. After each trial the host
// writes TRIAL_END and {"end": n, "code": exit code} on stdout and TRIAL_END and {"end": n} on stderr,
// so the parent knows which output was whose. stdin closing (the parent is gone) ends the host.
import { createInterface } from 'node:readline';
import { requestInterrupt, resetInterrupt } from '../cli/signals.ts';
import { resetPeakRss } from '../train/summary.ts';

/** Starts a trial's end record on stdout and stderr (JSON.stringify escapes it, so no output has it). */
export const TRIAL_END = '\x1e';

export type HostMessage = { run: number; args: string[] } | { stop: number };

/**
 * Serves trials until stdin closes. `prepare` (loading the training code) runs first, while the parent
 * may still be planning: requests that arrive meanwhile wait in the queue. A failure there is left for
 * the trial to meet and report (its own import fails the same way, with the trial's exit code).
 */
export async function serveTrials(
  runCommand: (argv: string[]) => Promise<number>,
  prepare?: () => Promise<unknown>,
): Promise<void> {
  const queue: { run: number; args: string[] }[] = [];
  let wake: (() => void) | null = null;
  let current = -1;
  /** Runs asked to stop before they began (while the training code loaded, say): they stop at once. */
  const stopped = new Set<number>();
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    let msg: HostMessage;
    try {
      msg = JSON.parse(line) as HostMessage;
    } catch {
      process.stderr.write(`trial host: ignoring a line that is not JSON: ${line.slice(0, 80)}\n`);
      return;
    }
    if ('stop' in msg) {
      if (msg.stop === current) requestInterrupt();
      else if (queue.some((q) => q.run === msg.stop)) stopped.add(msg.stop);
      return;
    }
    queue.push(msg);
    wake?.();
  });
  // The parent is gone: nothing will read what a trial prints (mid-trial, the guard kills us first).
  lines.on('close', () => process.exit(0));
  await prepare?.().catch(() => {});
  for (;;) {
    const next = queue.shift() ?? (await new Promise<void>((r) => (wake = r)).then(() => queue.shift()));
    wake = null;
    if (!next) continue;
    current = next.run;
    resetInterrupt();
    // Stopped while queued: the run starts and stops at its first step, as a stop just after its start would.
    if (stopped.delete(next.run)) requestInterrupt();
    resetPeakRss(); // a trial's summary reports its own peak, not an earlier trial's
    const code = await runCommand(next.args);
    current = -1;
    resetInterrupt();
    process.stdout.write(`\n${TRIAL_END}${JSON.stringify({ end: next.run, code })}\n`);
    process.stderr.write(`\n${TRIAL_END}${JSON.stringify({ end: next.run })}\n`);
  }
}
