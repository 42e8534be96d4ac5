// Runs one sweep trial's command (or a trial host) and takes it down with the process that started
// it: a worker that is SIGKILLed cannot forward anything, but its end of our stdin pipe closes, and
// then we kill the trial, so an orphan never keeps training into a run folder another worker is about
// to take over. What arrives on our stdin (a trial host's requests) goes on to the child's.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'inherit', 'inherit'] });
// SIGINT/SIGTERM (pruning, a worker shutting down) go on to the trial, which stops after its step.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.stdin.on('error', () => {}); // the child is gone: its exit ends us below
process.stdin.on('data', (chunk) => child.stdin.write(chunk));
process.stdin.on('end', () => child.kill('SIGKILL'));
process.stdin.on('error', () => child.kill('SIGKILL'));
child.on('error', (err) => {
  process.stderr.write(`error: cannot start the trial: ${err.message}\n`);
  process.exit(1);
});
// A trial killed by a signal exits 128 + its number, as a shell would report it.
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
