// Fault injection for the reliability tests: MTL_FAULT makes the file-writing layer fail the way a
// full disk, a read-only or an unwritable folder would, or kills the process at an exact write, so
// those paths are tested through the real CLI without mocking training. Unset (always, outside
// tests) every call is a no-op.
//
//   MTL_FAULT=<kind>:<path substring>:<n>[,<kind>:<substring>:<n>…]
//   kind: enospc | erofs | eacces (the n-th matching write fails, and every one after it: a full
//   disk stays full) or kill (SIGKILL at the n-th matching write, before it starts).

export type FaultKind = 'enospc' | 'erofs' | 'eacces' | 'kill';

interface FaultRule {
  kind: FaultKind;
  pattern: string;
  nth: number;
  seen: number;
}

const MESSAGES: Record<Exclude<FaultKind, 'kill'>, { code: string; errno: number; text: string }> = {
  enospc: { code: 'ENOSPC', errno: -28, text: 'no space left on device' },
  erofs: { code: 'EROFS', errno: -30, text: 'read-only file system' },
  eacces: { code: 'EACCES', errno: -13, text: 'permission denied' },
};

let parsedFrom: string | undefined;
let rules: FaultRule[] = [];

/** Parses MTL_FAULT; a malformed rule is an error at once (a test that injects nothing proves nothing). */
export function parseFaults(spec: string): FaultRule[] {
  return spec
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((rule) => {
      const first = rule.indexOf(':');
      const last = rule.lastIndexOf(':');
      const kind = rule.slice(0, first) as FaultKind;
      const nth = Number(rule.slice(last + 1));
      if (
        first < 0 ||
        last === first ||
        !(kind in MESSAGES || kind === 'kill') ||
        !(Number.isInteger(nth) && nth > 0)
      ) {
        throw new Error(`MTL_FAULT: bad rule '${rule}' (expected <enospc|erofs|eacces|kill>:<path substring>:<n>)`);
      }
      return { kind, pattern: rule.slice(first + 1, last), nth, seen: 0 };
    });
}

/** Called by every file write of a run (before it starts) with the path it writes. */
export function faultPoint(path: string, syscall = 'write'): void {
  const spec = process.env.MTL_FAULT;
  if (!spec) return;
  if (spec !== parsedFrom) {
    rules = parseFaults(spec);
    parsedFrom = spec;
  }
  for (const rule of rules) {
    if (!path.includes(rule.pattern)) continue;
    rule.seen++;
    if (rule.seen < rule.nth) continue;
    if (rule.kind === 'kill') {
      if (rule.seen === rule.nth) process.kill(process.pid, 'SIGKILL');
      continue;
    }
    throw errnoError(rule.kind, path, syscall);
  }
}

/** An error shaped like Node's own fs errors (code, errno, syscall, path). */
function errnoError(kind: Exclude<FaultKind, 'kill'>, path: string, syscall: string): NodeJS.ErrnoException {
  const m = MESSAGES[kind];
  const err: NodeJS.ErrnoException = new Error(`${m.code}: ${m.text}, ${syscall} '${path}'`);
  err.code = m.code;
  err.errno = m.errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}
