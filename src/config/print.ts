// Writes a resolved config back as YAML (run folders' config.yaml, `mtl config`), keys in the
// order of types.ts so two runs' configs diff line by line. loadConfig reads it back unchanged.
import { Document, isScalar, isSeq, visit } from 'yaml';
import type { z } from 'zod';
import { configSchema } from './schema.ts';
import type { Config } from './types.ts';
import { childSchema, keysAt } from './walk.ts';

const HEADER = ' Resolved mtl config: every default filled in. Load it with `mtl train <this file>`.';

/** YAML text of a resolved config; short lists of numbers stay on one line (`hidden: [256, 128]`). */
export function stringifyConfig(config: Readonly<Config>): string {
  const doc = new Document(orderLike(configSchema, config));
  doc.commentBefore = HEADER;
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** A copy of `value` whose mapping keys follow the schema's order (unions follow their tag). */
function orderLike(schema: z.ZodType, value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => {
      const element = childSchema(schema, i, value);
      return element ? orderLike(element, item) : item;
    });
  }
  const keys = keysAt(schema, value);
  if (!keys || value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  // Schema keys first in their order; anything else (there should be none) after, so nothing is lost.
  for (const key of [...keys, ...Object.keys(record).filter((k) => !keys.includes(k))]) {
    if (!(key in record)) continue;
    const child = childSchema(schema, key, value);
    ordered[key] = child ? orderLike(child, record[key]) : record[key];
  }
  return ordered;
}
