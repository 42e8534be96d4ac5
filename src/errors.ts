// Typed errors carrying the exit code of docs/design.md; only src/cli turns them into exits.

export const EXIT = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  INVALID_INPUT: 3,
  THRESHOLD: 4,
  ENVIRONMENT: 5,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class MtlError extends Error {
  readonly exitCode: ExitCode = EXIT.RUNTIME;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad flag, argument or combination of them (exit 2). */
export class UsageError extends MtlError {
  override readonly exitCode = EXIT.USAGE;
}

/** Issues found in a config file or overrides; all are reported at once (exit 3). */
export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `trainer.optimizer.lr`. */
  path: string;
  message: string;
  /** `file:line:col` where the key or value sits, when known. */
  location?: string;
}

export class ConfigError extends MtlError {
  override readonly exitCode = EXIT.INVALID_INPUT;
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], header = 'invalid config') {
    super(`${header}:\n${issues.map(formatIssue).join('\n')}`);
    this.issues = issues;
  }
}

function formatIssue(issue: ConfigIssue): string {
  const where = issue.location ? `${issue.location}: ` : '';
  return `  ${where}${issue.path || '(root)'}: ${issue.message}`;
}

/** Bad input that is not a config: data files, run ids, checkpoints (exit 3). */
export class InputError extends MtlError {
  override readonly exitCode = EXIT.INVALID_INPUT;
}

/** One problem in a data file: which file, and where in it when known (row 1 = first row after a header). */
export interface DataProblem {
  file: string;
  row?: number;
  /** The file's line number (differs from row + 1 only after a quoted field with line breaks). */
  line?: number;
  column?: string;
  message: string;
}

/** Bad data files: every problem found in one pass, listed together (exit 3). */
export class DataError extends InputError {
  readonly problems: DataProblem[];
  constructor(problems: DataProblem[], header = 'invalid data') {
    const shown = problems.slice(0, MAX_SHOWN).map(formatProblem);
    const more = problems.length > MAX_SHOWN ? [`  … and ${problems.length - MAX_SHOWN} more`] : [];
    super(
      `${header} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${[...shown, ...more].join('\n')}`,
    );
    this.problems = problems;
  }
}

/** A long list of bad cells is one mistake repeated: the first 50 say what it is. */
const MAX_SHOWN = 50;

function formatProblem(p: DataProblem): string {
  const where = [
    p.row !== undefined ? `row ${p.row}${p.line !== undefined ? ` (line ${p.line})` : ''}` : '',
    p.column !== undefined ? `column '${p.column}'` : '',
  ].filter(Boolean);
  return `  ${p.file}${where.length ? `: ${where.join(', ')}` : ''}: ${p.message}`;
}

/** A metric threshold or benchmark regression failed (exit 4). */
export class ThresholdError extends MtlError {
  override readonly exitCode = EXIT.THRESHOLD;
}

/** The environment cannot do what was asked: backend missing, GPU required but absent (exit 5). */
export class EnvironmentError extends MtlError {
  override readonly exitCode = EXIT.ENVIRONMENT;
}

/**
 * A file could not be written or read back because of the machine (no space left, read-only or
 * unwritable folder): exit 5 like other environment problems, naming the path.
 */
export class StorageError extends EnvironmentError {
  readonly path: string;
  readonly code: string;
  constructor(message: string, path: string, code: string) {
    super(message);
    this.path = path;
    this.code = code;
  }
}

/** A checkpoint or run file failed its checksum, is truncated or missing (exit 3, naming the file). */
export class IntegrityError extends InputError {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** The training loss became NaN or infinite (Keras's TerminateOnNaN): the run fails (exit 1). */
export class NonFiniteLossError extends MtlError {
  readonly epoch: number;
  readonly step: number;
  constructor(kind: 'NaN' | 'infinite', epoch: number, step: number) {
    super(
      `loss became ${kind} at epoch ${epoch}, step ${step}: training stopped; the best checkpoint so far is kept ` +
        '(lower trainer.optimizer.lr, add a warmup, or check the data for NaN values)',
    );
    this.epoch = epoch;
    this.step = step;
  }
}
