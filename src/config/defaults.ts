// The config with every default filled in, and the config reference (path, type, default,
// description) read off the schema itself so the README cannot drift from the code.
import { z } from 'zod';
import { configSchema } from './schema.ts';
import type { Config } from './types.ts';
import { unwrapSchema, variantTag } from './walk.ts';

/** The resolved config an empty YAML file gives (the name normally comes from the file name). */
export function defaultConfig(name = 'experiment'): Config {
  return configSchema.parse({ name });
}

export interface ConfigField {
  /** Dotted path; list elements appear as `[]`, e.g. `model.conv[].filters`. */
  path: string;
  /** Human type label, e.g. `integer from 1 to 65536`, `adam | sgd | rmsprop`. */
  type: string;
  /** The default; undefined when the key is required (or, for `name`, supplied by the loader). */
  default: unknown;
  description: string;
  /** Set when the key exists only for one variant, e.g. `model.type: cnn`. */
  when?: string;
}

/** Every leaf key of the config, in schema order; sections are flattened into dotted paths. */
export function describeConfig(): ConfigField[] {
  const out: ConfigField[] = [];
  describeInto(out, configSchema, '', undefined);
  return out;
}

function describeInto(out: ConfigField[], schema: z.ZodType, path: string, when: string | undefined): void {
  const { core, info, defaultValue, hasDefault, nullable } = unwrapSchema(schema);
  if (core instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(core.shape)) describeInto(out, child as z.ZodType, join(path, key), when);
    return;
  }
  if (core instanceof z.ZodDiscriminatedUnion) {
    describeUnion(out, core, path);
    return;
  }
  if (core instanceof z.ZodArray && unwrapSchema(core.element as z.ZodType).core instanceof z.ZodObject) {
    const field = leaf(path, 'list of mappings', info.description, hasDefault ? defaultValue : undefined, when);
    out.push(field);
    describeInto(out, core.element as z.ZodType, `${path}[]`, when);
    return;
  }
  const type = info.kind ?? kindOf(core) + (nullable ? ' or null' : '');
  out.push(leaf(path, type, info.description, hasDefault ? defaultValue : undefined, when));
}

/** Variants are listed one after another; keys shared by every variant are listed once. */
function describeUnion(out: ConfigField[], union: z.ZodDiscriminatedUnion, path: string): void {
  const tagKey = union.def.discriminator;
  const variants = union.options as unknown as z.ZodObject[];
  const tags = variants.map((v) => variantTag(v, tagKey));
  const tagField = unwrapSchema(variants[0]!.shape[tagKey] as z.ZodType);
  const tagDefault = variants.map((v) => unwrapSchema(v.shape[tagKey] as z.ZodType)).find((u) => u.hasDefault);
  out.push(leaf(join(path, tagKey), tags.join(' | '), tagField.info.description, tagDefault?.defaultValue, undefined));
  variants.forEach((variant, i) => {
    for (const [key, child] of Object.entries(variant.shape)) {
      if (key !== tagKey) describeInto(out, child as z.ZodType, join(path, key), `${join(path, tagKey)}: ${tags[i]}`);
    }
  });
}

function leaf(path: string, type: string, description: string | undefined, value: unknown, when?: string): ConfigField {
  const field: ConfigField = { path, type, default: value, description: description ?? '' };
  if (when) field.when = when;
  return field;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function kindOf(core: z.ZodType): string {
  if (core instanceof z.ZodLiteral) return core.def.values.map(String).join(' | ');
  if (core instanceof z.ZodString) return 'string';
  if (core instanceof z.ZodNumber) return 'number';
  if (core instanceof z.ZodBoolean) return 'boolean';
  return core.def.type;
}
