// The `data.dataset` mini-language, parsed in one place for config checks and data loading alike:
// `<source>` or `<source>:<arg>` (a folder for `idx:`), optionally followed by a class subset
// `:0-4` / `:5,7,9` / `:0-2,7` (labels then remapped to 0..k-1 in ascending original order).
// A new source is one line in DATASET_SOURCES plus its loader in src/data/registry.ts.

export interface DatasetSourceInfo {
  /** What follows `<source>:` (e.g. a directory), or null for a built-in set. */
  arg: string | null;
  /** Number of classes when known without reading files (checks a subset at config time). */
  classes: number | null;
  /** One line for `mtl doctor` and the README. */
  description: string;
}

export const DATASET_SOURCES = {
  mnist: {
    arg: null,
    classes: 10,
    description: 'MNIST digits, official IDX files: 60,000 train / 10,000 test, 10 classes',
  },
  fashion: {
    arg: null,
    classes: 10,
    description: 'Fashion-MNIST: fixed stratified split, 6,000 train / 1,000 test per class',
  },
  idx: {
    arg: 'dir',
    classes: null,
    description: 'your own IDX files (train-images, train-labels, t10k-images, t10k-labels; raw or .gz)',
  },
  images: {
    arg: 'dir',
    classes: null,
    description: 'your own PNG/JPEG images: a sub-folder per class, or train/ and test/ with class sub-folders',
  },
  csv: {
    arg: 'file',
    classes: null,
    description: 'your own table: a CSV with a header row; label column(s) name the classes, the rest are features',
  },
} as const satisfies Record<string, DatasetSourceInfo>;

export type DatasetSourceName = keyof typeof DATASET_SOURCES;

export interface DatasetSpec {
  source: DatasetSourceName;
  /** The source's argument (the directory of `idx:<dir>`, the file of `csv:<file>`); null for built-in sets. */
  arg: string | null;
  /** Sorted, distinct original classes to keep; null = all. */
  classes: number[] | null;
}

const SOURCE_NAMES = Object.keys(DATASET_SOURCES) as DatasetSourceName[];
const FORMS = SOURCE_NAMES.map((s) => {
  const arg = DATASET_SOURCES[s].arg;
  return arg === null ? s : `${s}:<${arg}>`;
});
export const DATASET_FORMS = `${FORMS.join(', ')}, or a class subset of any of them such as mnist:0-4, fashion:5,7,9 or images:<dir>:0-2,7`;

/** Built-in two-object datasets (Sener & Koltun 2018; Lin et al. 2019): labels `left` and `right`. */
export const MULTI_DATASETS = ['multimnist', 'multifashion', 'multi-fashion-mnist'] as const;

export function isMultiDataset(spec: string): boolean {
  return (MULTI_DATASETS as readonly string[]).includes(spec);
}

export type DatasetParse = { ok: true; spec: DatasetSpec } | { ok: false; reason: string };

const CLASS_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
/** Labels are stored as bytes, so nothing above 255 can exist (and huge ranges never loop). */
const MAX_LABEL = 255;

/** Parses a dataset string; `reason` says what is wrong in terms of the valid forms. */
export function parseDatasetSpec(text: string): DatasetParse {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!Object.hasOwn(DATASET_SOURCES, name)) return fail(`unknown dataset '${text}'`);
  const source = name as DatasetSourceName;
  const info: DatasetSourceInfo = DATASET_SOURCES[source];
  let rest = colon < 0 ? null : text.slice(colon + 1);
  let arg: string | null = null;
  if (info.arg !== null) {
    if (rest === null || !rest.trim())
      return fail(`'${source}:' needs a ${info.arg}, e.g. '${source}:datasets/my-set'`);
    // A trailing `:<classes>` is a subset when it looks like one; a folder named `5` stays a folder.
    const cut = rest.lastIndexOf(':');
    arg = cut > 0 && CLASS_LIST.test(rest.slice(cut + 1)) ? rest.slice(0, cut) : rest;
    rest = arg === rest ? null : rest.slice(cut + 1);
  }
  if (rest === null) return { ok: true, spec: { source, arg, classes: null } };
  const classes = parseClasses(rest, info.classes);
  if (typeof classes === 'string') return fail(`bad class subset '${rest}' in '${text}': ${classes}`);
  return { ok: true, spec: { source, arg, classes } };
}

function fail(reason: string): DatasetParse {
  return { ok: false, reason };
}

/** `0-2,7` → [0, 1, 2, 7]; returns a reason string when malformed. `known` = the source's class count. */
function parseClasses(text: string, known: number | null): number[] | string {
  if (!CLASS_LIST.test(text)) return 'expected classes such as 0-4, 5,7,9 or 0-2,7';
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    if (hi! < lo) return `range '${part}' must ascend`;
    const limit = known === null ? MAX_LABEL : known - 1;
    if (hi! > limit)
      return `class ${hi} out of range (${known === null ? 'labels are 0-255' : `classes are 0-${limit}`})`;
    for (let c = lo; c <= hi!; c++) {
      if (seen.has(c)) return `class ${c} is listed twice`;
      seen.add(c);
    }
  }
  // A one-class "classification" would train a softmax that can only ever be right.
  if (seen.size < 2) return 'a subset needs at least two classes';
  return [...seen].sort((a, b) => a - b);
}
