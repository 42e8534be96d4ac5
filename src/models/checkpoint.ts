// Checkpoints in the standard TF.js Layers format (model.json + weights.bin, loadable by
// tf.loadLayersModel anywhere) plus preprocess.json, and optimizer state in last/.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Preprocess } from '../data/normalize.ts';
import { tf } from '../engine/backend/tf.ts';
import { InputError } from '../errors.ts';

/** preprocess.json: docs/design.md's contract, the same type the data module fits. */
export type PreprocessFile = Preprocess;

export interface NamedOptimizer {
  /** Parameter-group name ('all' for a single optimizer). */
  group: string;
  optimizer: tf.Optimizer;
}

export interface SaveOptions {
  preprocess: PreprocessFile;
  optimizers?: NamedOptimizer[];
  /** Extra facts stored in model.json's userDefinedMetadata (class names, epoch…). */
  metadata?: Record<string, unknown>;
}

/**
 * Write a checkpoint folder atomically: everything goes to a sibling temp folder first, which then
 * replaces `dir` by rename, so a reader never sees a half-written checkpoint.
 */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, options: SaveOptions): Promise<void> {
  const tmp = join(dirname(dir), `.${randomBytes(4).toString('hex')}.tmp`);
  mkdirSync(tmp, { recursive: true });
  try {
    await writeModelFiles(tmp, model, options.metadata);
    writeFileSync(join(tmp, 'preprocess.json'), `${JSON.stringify(options.preprocess)}\n`);
    if (options.optimizers?.length) await writeOptimizerFiles(tmp, options.optimizers);
    replaceDir(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function replaceDir(from: string, to: string): void {
  const old = `${to}.${randomBytes(4).toString('hex')}.old`;
  if (existsSync(to)) renameSync(to, old);
  renameSync(from, to);
  rmSync(old, { recursive: true, force: true });
}

async function writeModelFiles(dir: string, model: tf.LayersModel, metadata?: Record<string, unknown>): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('model.save produced no weights');
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(joinBuffers(artifacts.weightData)));
}

async function writeOptimizerFiles(dir: string, optimizers: NamedOptimizer[]): Promise<void> {
  const groups = [];
  const buffers: Buffer[] = [];
  let offset = 0;
  for (const { group, optimizer } of optimizers) {
    const named = await optimizer.getWeights();
    const { data, specs } = await tf.io.encodeWeights(named);
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
  writeFileSync(
    join(dir, 'optimizer.json'),
    `${JSON.stringify({ format: 'mtl-optimizer-state/1', groups }, null, 2)}\n`,
  );
  writeFileSync(join(dir, 'optimizer.bin'), Buffer.concat(buffers));
}

function joinBuffers(data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  preprocess: PreprocessFile;
  metadata: Record<string, unknown>;
}

/** Load a checkpoint folder written by saveCheckpoint (or any TF.js Layers model + preprocess.json). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const modelPath = join(dir, 'model.json');
  const weightsPath = join(dir, 'weights.bin');
  const preprocessPath = join(dir, 'preprocess.json');
  for (const p of [modelPath, weightsPath, preprocessPath]) {
    if (!existsSync(p)) throw new InputError(`checkpoint is incomplete: ${p} is missing`);
  }
  let modelJson: {
    modelTopology: object;
    weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
    userDefinedMetadata?: Record<string, unknown>;
  };
  let preprocess: PreprocessFile;
  try {
    modelJson = JSON.parse(readFileSync(modelPath, 'utf8'));
    preprocess = JSON.parse(readFileSync(preprocessPath, 'utf8'));
  } catch (err) {
    throw new InputError(`checkpoint ${dir} has an unreadable JSON file: ${(err as Error).message}`);
  }
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const buf = readFileSync(weightsPath);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  try {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }),
    );
    return { model, preprocess, metadata: modelJson.userDefinedMetadata ?? {} };
  } catch (err) {
    throw new InputError(`checkpoint ${dir} could not be loaded as a TF.js Layers model: ${(err as Error).message}`);
  }
}
