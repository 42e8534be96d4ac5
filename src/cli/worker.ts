// `mtl worker --queue redis://…`: runs sweep trials from the queue until SIGTERM/Ctrl-C, which puts
// the running trials back on the queue (a second signal exits at once, as for every command).
import chalk from 'chalk';
import { probeRedis } from '../sweep/queue.ts';
import { startWorker } from '../sweep/worker.ts';
import { say } from './output.ts';
import { interruptFlag } from './signals.ts';

export interface WorkerCliOptions {
  queue: string;
  queueName: string;
  runsDir: string;
  concurrency: number;
  lockSeconds: number;
  reconnectSeconds: number;
  json?: boolean;
}

export async function workerCommand(o: WorkerCliOptions): Promise<void> {
  // Once running, a worker waits out a Redis restart; at start, an unreachable Redis is an error.
  await probeRedis(o.queue);
  const log = (line: string): void => {
    if (o.json) process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), message: line })}\n`);
    else say(`${chalk.dim(new Date().toISOString().slice(11, 19))} ${line}`);
  };
  const worker = startWorker({ ...o, url: o.queue, log });
  log(
    `worker ${process.pid} on ${o.queue} (queue ${o.queueName}), ${o.concurrency} trial(s) at once, runs in ${o.runsDir}`,
  );
  // The CLI's signal handler sets the flag on the first SIGINT/SIGTERM; hand the trials back then.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (!interruptFlag.isSet()) return;
      clearInterval(poll);
      log('stopping: running trials go back on the queue');
      void worker.stop().then(resolve);
    }, 100);
  });
  log('worker stopped');
}
