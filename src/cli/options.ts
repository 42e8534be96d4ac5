// Flag parsers shared by the commands: bad values are usage errors (exit 2) naming the flag. main.ts loads
// this for every command, so it imports nothing that loads TF.js.
import { basename, dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { BACKENDS, STRATEGIES } from '../config/names.ts';
import type { BackendName, FinetuneStrategy } from '../config/types.ts';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'.`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'.`);
  }
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a non-negative number, got '${value}'.`);
  }
  return n;
}

export function backendName(value: string): BackendName {
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${BACKENDS.join(', ')}, got '${value}'.`);
  }
  return value as BackendName;
}

export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}, got '${value}'.`);
    }
    return value as T;
  };
}

/** commander parser for a repeatable `--strategy`. */
export function collectStrategy(value: string, previous: FinetuneStrategy[] = []): FinetuneStrategy[] {
  return [...previous, oneOf(STRATEGIES)(value)];
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Default runs folder: $MTL_RUNS_DIR or ./runs. */
export function defaultRunsDir(): string {
  return process.env.MTL_RUNS_DIR ?? 'runs';
}

/** The command that continues a stopped run of `kind` named `ref` (`mtl sweep resume` for a sweep). */
export function resumeCommandLine(kind: string, ref: string): string {
  return `${kind === 'sweep' ? 'mtl sweep resume' : 'mtl resume'} ${ref}`;
}

/** resumeCommandLine as it can be typed here: the run's id when it lies in the default runs folder, else its path. */
export function resumeCommandFor(kind: string, runDir: string): string {
  return resumeCommandLine(kind, dirname(resolve(runDir)) === resolve(defaultRunsDir()) ? basename(runDir) : runDir);
}
