// Optimizer state in checkpoints/last/: optimizer.json (per parameter group: class, config, where
// its tensors sit) + optimizer.bin (the tensors of optimizer.getWeights(), back to back), and the
// way back from those files to tensors for a resumed run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../engine/backend/tf.ts';
import { IntegrityError } from '../errors.ts';

export const OPTIMIZER_FORMAT = 'mtl-optimizer-state/1';

/** A tensor with the name it was saved under (tfjs's NamedTensor, which the package does not export). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface NamedOptimizer {
  /** Parameter-group name ('all' for a single optimizer). */
  group: string;
  optimizer: tf.Optimizer;
}

interface GroupEntry {
  group: string;
  className: string;
  config: tf.serialization.ConfigDict;
  offset: number;
  byteLength: number;
  weightSpecs: tf.io.WeightsManifestEntry[];
}

export interface OptimizerGroupState {
  group: string;
  className: string;
  /** getWeights() order: `iter` first, then the optimizer's own variables (owned by the caller). */
  weights: NamedTensor[];
}

export function joinBuffers(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/**
 * Names for the optimizer's tensors that do not depend on the process: tfjs names a moment after
 * its variable's process-unique name (`dense_1/kernel_1/m` when another model was built first, as
 * in a transfer's children), so the prefix is mapped to the layer weight's own name, and a variable
 * outside the model (a learned loss weight) to `variable_<k>` in order of appearance. Names are
 * informational: setWeights restores by position.
 */
export function stableNames(names: string[], modelNames: ReadonlyMap<string, string>): string[] {
  // An optimizer restored by setWeights already carries the saved (stable) names.
  const stableOnes = new Set(modelNames.values());
  const others = new Map<string, string>();
  return names.map((name) => {
    const cut = name.lastIndexOf('/');
    if (cut < 0) return name; // `iter`
    const prefix = name.slice(0, cut);
    const known = modelNames.get(prefix) ?? (stableOnes.has(prefix) ? prefix : undefined);
    const stable = known ?? others.get(prefix) ?? stableOther(prefix, others.size);
    if (known === undefined) others.set(prefix, stable);
    return `${stable}${name.slice(cut)}`;
  });
}

/** `variable_<k>` for a variable outside the model; a name already of that form (a restored optimizer's) is kept. */
function stableOther(prefix: string, k: number): string {
  return /^variable_\d+$/.test(prefix) ? prefix : `variable_${k}`;
}

/** optimizer.json and optimizer.bin for `optimizers`, in memory; `modelNames`: variable name → saved weight name. */
export async function encodeOptimizers(
  optimizers: NamedOptimizer[],
  modelNames: ReadonlyMap<string, string> = new Map(),
): Promise<{ json: string; bin: Uint8Array }> {
  const groups: GroupEntry[] = [];
  const buffers: Buffer[] = [];
  let offset = 0;
  for (const { group, optimizer } of optimizers) {
    const named = await optimizer.getWeights();
    const names = stableNames(
      named.map((w) => w.name),
      modelNames,
    );
    const { data, specs } = await tf.io.encodeWeights(named.map((w, i) => ({ name: names[i]!, tensor: w.tensor })));
    // getWeights() makes a fresh `iter` scalar on every call (the rest are the optimizer's own variables).
    named
      .filter((w) => w.name === 'iter')
      .forEach((w) => {
        w.tensor.dispose();
      });
    const bytes = Buffer.from(joinBuffers(data));
    groups.push({
      group,
      className: optimizer.getClassName(),
      config: optimizer.getConfig(),
      offset,
      byteLength: bytes.length,
      weightSpecs: specs,
    });
    buffers.push(bytes);
    offset += bytes.length;
  }
  return {
    json: `${JSON.stringify({ format: OPTIMIZER_FORMAT, groups }, null, 2)}\n`,
    bin: Buffer.concat(buffers),
  };
}

/** The optimizer state of a checkpoint folder (verified by the caller), one entry per group. */
export function decodeOptimizers(dir: string): OptimizerGroupState[] {
  const jsonPath = join(dir, 'optimizer.json');
  let doc: { format: string; groups: GroupEntry[] };
  try {
    doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new IntegrityError(`cannot read ${jsonPath}: ${(err as Error).message}`, jsonPath);
  }
  if (doc.format !== OPTIMIZER_FORMAT) throw new IntegrityError(`${jsonPath} is not ${OPTIMIZER_FORMAT}`, jsonPath);
  const bin = readFileSync(join(dir, 'optimizer.bin'));
  return doc.groups.map((g) => {
    const bytes = bin.subarray(g.offset, g.offset + g.byteLength);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const map = tf.io.decodeWeights(buffer, g.weightSpecs);
    // decodeWeights returns a map: put the tensors back in the saved (getWeights) order.
    return {
      group: g.group,
      className: g.className,
      weights: g.weightSpecs.map((s) => ({ name: s.name, tensor: map[s.name]! })),
    };
  });
}
