// The `data.dataset` mini-language: `mnist`, `fashion`, `idx:<dir>`, or a class subset `mnist:0-4`.
// Validated here so a typo fails at config time, and parsed here so src/data/ reads one structure.

export type BuiltinDataset = 'mnist' | 'fashion';

export type DatasetSpec =
  | { kind: 'builtin'; name: BuiltinDataset /** Sorted class labels kept; null = all ten. */; classes: number[] | null }
  | { kind: 'idx'; dir: string };

export const DATASET_FORMS =
  "'mnist', 'fashion', 'idx:<dir>', or a class subset such as 'mnist:0-4', 'fashion:5,7,9', 'mnist:0-2,7'";

const BUILTINS: readonly BuiltinDataset[] = ['mnist', 'fashion'];

export type DatasetParse = { ok: true; spec: DatasetSpec } | { ok: false; reason: string };

/** Parses a dataset string; `reason` says what is wrong in terms of the valid forms. */
export function parseDatasetSpec(text: string): DatasetParse {
  if (text.startsWith('idx:')) {
    const dir = text.slice(4);
    return dir.trim()
      ? { ok: true, spec: { kind: 'idx', dir } }
      : fail("'idx:' needs a directory, e.g. 'idx:datasets/my-digits'");
  }
  const [name, subset, ...rest] = text.split(':');
  if (!BUILTINS.includes(name as BuiltinDataset) || rest.length > 0) return fail(`unknown dataset '${text}'`);
  if (subset === undefined) return { ok: true, spec: { kind: 'builtin', name: name as BuiltinDataset, classes: null } };
  const classes = parseClasses(subset);
  if (typeof classes === 'string') return fail(`bad class subset '${subset}': ${classes}`);
  return { ok: true, spec: { kind: 'builtin', name: name as BuiltinDataset, classes } };
}

function fail(reason: string): DatasetParse {
  return { ok: false, reason };
}

/** `0-2,7` → [0, 1, 2, 7]; returns a reason string when malformed. */
function parseClasses(text: string): number[] | string {
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\d)(?:-(\d))?$/.exec(part.trim());
    if (!match) return `'${part}' is not a class 0-9 or a range such as 0-4`;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to <= from && match[2] !== undefined) return `range '${part}' must ascend`;
    for (let c = from; c <= to; c++) {
      if (seen.has(c)) return `class ${c} is listed twice`;
      seen.add(c);
    }
  }
  // A one-class "classification" would train a softmax that can only ever be right.
  if (seen.size < 2) return 'a subset needs at least two classes';
  return [...seen].sort((a, b) => a - b);
}
