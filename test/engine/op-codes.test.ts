// The op-code table is written once (src/engine/native/op-codes.ts): kernels.c sees it through the
// generated kernels-ops.h. Parses the C side and fails when it and the TS table disagree, when
// kernels.c defines a code of its own, or when a TS file copies a code instead of importing the table.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPS_HEADER, renderOpsHeader } from '../../src/engine/native/gen-ops-header.ts';
import { CALL, CTRL, OP, PARAM_WORDS } from '../../src/engine/native/op-codes.ts';

const ENGINE = new URL('../../src/engine/', import.meta.url);
const NATIVE = new URL('native/', ENGINE);
const read = (name: string): string => readFileSync(new URL(name, NATIVE), 'utf8');
/** C source without comments, so a commented-out constant counts for nothing. */
const code = (name: string): string =>
  read(name)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');

/** Every `PREFIX_NAME = value` enum member of `c`. */
function enumMembers(c: string, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of c.matchAll(new RegExp(`\\b${prefix}_([A-Z0-9_]+)\\s*=\\s*(\\d+)`, 'g'))) {
    const [, name, value] = m as unknown as [string, string, string];
    assert.equal(out[name], undefined, `${prefix}_${name} defined twice`);
    out[name] = Number(value);
  }
  return out;
}

/** The `case OP_X:` labels of the C function `name`. */
function casesOf(c: string, name: string): string[] {
  const start = c.indexOf(` ${name}(`);
  assert.ok(start >= 0, `kernels.c has no function ${name}`);
  const body = c.slice(start, c.indexOf('\n}\n', start));
  return [...body.matchAll(/case OP_([A-Z0-9_]+):/g)].map((m) => m[1]!);
}

test('kernels-ops.h holds exactly the TS table: op codes, control words and the call tag', () => {
  const h = code(OPS_HEADER);
  assert.deepEqual(enumMembers(h, 'OP'), { ...OP });
  assert.deepEqual(enumMembers(h, 'CTRL'), { ...CTRL });
  const define = (name: string): number => {
    const m = h.match(new RegExp(`#define ${name} (0x[0-9a-f]+|\\d+)\\s`));
    assert.ok(m?.[1], `kernels-ops.h does not define ${name}`);
    return Number(m[1]);
  };
  assert.deepEqual({ SHIFT: define('CALL_SHIFT'), MASK: define('CALL_MASK') }, { ...CALL });
});

test('kernels-ops.h is what gen-ops-header.ts writes now (rerun build.sh after editing op-codes.ts)', () => {
  assert.equal(read(OPS_HEADER), renderOpsHeader());
});

test('kernels.c includes the header, defines no code of its own and dispatches every op', () => {
  const c = code('kernels.c');
  assert.match(c, /#include "kernels-ops\.h"/);
  assert.deepEqual(enumMembers(c, 'OP'), {}, 'kernels.c defines op codes itself');
  assert.deepEqual(enumMembers(c, 'CTRL'), {}, 'kernels.c defines control words itself');
  assert.doesNotMatch(c, /#define (OP|CTRL|CALL)_/);
  const ops = Object.keys(OP).sort();
  assert.deepEqual([...new Set(casesOf(c, 'chunk_count'))].sort(), ops, 'chunk_count cases');
  assert.deepEqual([...new Set(casesOf(c, 'run_chunk'))].sort(), ops, 'run_chunk cases');
});

test('op codes are distinct and positive; control words sit at the end of the params block', () => {
  const codes = Object.values(OP);
  assert.equal(new Set(codes).size, codes.length);
  assert.ok(codes.every((v) => Number.isInteger(v) && v > 0));
  const ctrl = Object.values(CTRL).sort((a, b) => a - b);
  assert.deepEqual(
    ctrl,
    ctrl.map((_, i) => PARAM_WORDS - ctrl.length + i),
  );
});

test('no TS file under src/engine keeps its own copy of a code', () => {
  const copies: string[] = [];
  for (const entry of readdirSync(ENGINE, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name === 'op-codes.ts') continue;
    const text = readFileSync(`${entry.parentPath}/${entry.name}`, 'utf8');
    for (const m of text.matchAll(/\bconst (OP|CTRL|CALL)_[A-Z0-9_]+\s*=/g)) copies.push(`${entry.name}: ${m[0]}`);
  }
  assert.deepEqual(copies, []);
});
