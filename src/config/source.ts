// A parsed YAML config that remembers where each key and value sits, so every issue can name
// `file:line:col`. Syntax errors are reported all at once, like schema errors.
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError } from '../errors.ts';
import { showValue } from './fields.ts';
import type { PathSegment } from './walk.ts';

export interface ConfigSource {
  /** Name used in locations: the path as the user gave it. */
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The plain data of the top-level mapping ({} for an empty file). */
  data: Record<string, unknown>;
}

/** Parses YAML text; throws ConfigError listing every syntax error with its line:col. */
export function parseConfigText(text: string, file: string): ConfigSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: we format positions ourselves and keep messages to one line.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const source: ConfigSource = { file, doc, lineCounter, data: {} };
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      path: '',
      message: `YAML syntax: ${e.message}`,
      location: at(source, e.pos[0]),
    }));
    throw new ConfigError(issues, `cannot parse ${file}`);
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    // An empty file used to train every default silently: almost always a wrong path or an unsaved editor.
    const message =
      'the file is empty: it sets no keys (write `name: <run name>` to train every default; `mtl config --reference` lists the keys)';
    throw new ConfigError([{ path: '', message, location: file }], `invalid config ${file}`);
  }
  const data = toPlainData(doc, file);
  if (!isMap(contents) || data === null || typeof data !== 'object' || Array.isArray(data)) {
    const message = `the top level must be a mapping of keys to values, got ${showValue(data)}`;
    throw new ConfigError(
      [{ path: '', message, location: at(source, contents.range?.[0] ?? 0) }],
      `invalid config ${file}`,
    );
  }
  source.data = data as Record<string, unknown>;
  return source;
}

/**
 * The YAML's plain data. The yaml package refuses documents whose aliases expand past its limit
 * (the "billion laughs" alias bomb) with a ReferenceError: that is bad input, exit 3, naming the file.
 */
function toPlainData(doc: Document, file: string): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    const message = `YAML aliases expand too much to load (${(err as Error).message}); the file looks like an alias bomb`;
    throw new ConfigError([{ path: '', message, location: file }], `cannot parse ${file}`);
  }
}

function at(source: ConfigSource, offset: number): string {
  const { line, col } = source.lineCounter.linePos(offset);
  return `${source.file}:${line}:${col}`;
}

/**
 * Where `path` sits: the value node (or, with `key`, the key itself). A path that does not exist
 * in the file points at the deepest mapping or list that does, where the key would go.
 */
export function locate(source: ConfigSource, path: readonly PathSegment[], key = false): string {
  let node: unknown = source.doc.contents;
  if (!node) return source.file;
  for (let i = 0; i < path.length; i++) {
    const next = childNode(node, path[i]!, key && i === path.length - 1);
    if (!next) break;
    node = next;
  }
  const offset = (node as Node).range?.[0];
  return offset === undefined ? source.file : at(source, offset);
}

/** The child node for one segment; for a pair whose value is empty, the key stands in for it. */
function childNode(node: unknown, segment: PathSegment, wantKey: boolean): unknown {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    if (!pair) return undefined;
    return wantKey ? pair.key : (pair.value ?? pair.key);
  }
  if (isSeq(node)) return node.items[Number(segment)];
  return undefined;
}
