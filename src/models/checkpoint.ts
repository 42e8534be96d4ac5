// Checkpoints in the standard TF.js Layers format (model.json + weights.bin, loadable by
// tf.loadLayersModel anywhere) plus preprocess.json, optimizer state in last/, and manifest.json
// with each file's sha256, checked on every load.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Preprocess } from '../data/normalize.ts';
import { tf } from '../engine/backend/tf.ts';
import { InputError } from '../errors.ts';
import { makeDirSync, renameChecked, writeFilesDurable } from '../runs/atomic.ts';
import { MANIFEST_FILE, manifestOf, verifyManifest } from '../runs/manifest.ts';
import { encodeOptimizers, joinBuffers, type NamedOptimizer } from './checkpoint-optimizer.ts';

export type { NamedOptimizer } from './checkpoint-optimizer.ts';

/** preprocess.json: docs/design.md's contract, the same type the data module fits. */
export type PreprocessFile = Preprocess;

export interface SaveOptions {
  preprocess: PreprocessFile;
  optimizers?: NamedOptimizer[];
  /** Extra facts stored in model.json's userDefinedMetadata (class names, epoch…). */
  metadata?: Record<string, unknown>;
  /** More files for the folder, by name (last/'s resume.json); covered by the manifest too. */
  extraFiles?: Record<string, string | Uint8Array>;
}

/**
 * Write a checkpoint folder atomically: everything goes to a sibling temp folder first (manifest.json
 * with them, every file fsynced), which then replaces `dir` by rename, so a reader never sees a
 * half-written checkpoint.
 */
export async function saveCheckpoint(dir: string, model: tf.LayersModel, options: SaveOptions): Promise<void> {
  const files: Record<string, string | Uint8Array> = await modelFiles(model, options.metadata);
  files['preprocess.json'] = `${JSON.stringify(options.preprocess)}\n`;
  if (options.optimizers?.length) {
    const modelNames = new Map(model.weights.map((w) => [w.name, w.originalName]));
    const { json, bin } = await encodeOptimizers(options.optimizers, modelNames);
    files['optimizer.json'] = json;
    files['optimizer.bin'] = bin;
  }
  Object.assign(files, options.extraFiles ?? {});
  const tmp = join(dirname(dir), `.${randomBytes(4).toString('hex')}.tmp`);
  makeDirSync(tmp, dir);
  try {
    const manifest = `${JSON.stringify(manifestOf(files), null, 2)}\n`;
    await writeFilesDurable(tmp, { ...files, [MANIFEST_FILE]: manifest }, dir);
    replaceDir(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `to` moves aside, `from` takes its name, the old one is deleted. A kill between the two renames
 * leaves only `<to>.<hex>.old`, the previous complete checkpoint: recoverCheckpointDir puts it back.
 */
function replaceDir(from: string, to: string): void {
  const old = `${to}.${randomBytes(4).toString('hex')}.old`;
  if (existsSync(to)) renameChecked(to, old);
  renameChecked(from, to);
  rmSync(old, { recursive: true, force: true });
}

/**
 * After a crash: puts a checkpoint folder moved aside by replaceDir back when `dir` itself is
 * missing, and removes leftover temp and aside folders. Only the run's owner may call it.
 */
export function recoverCheckpointDir(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const aside = readdirSync(parent).filter((n) => n.startsWith(`${basename(dir)}.`) && n.endsWith('.old'));
  if (!existsSync(dir) && aside.length > 0) renameChecked(join(parent, aside[0]!), dir);
  for (const name of readdirSync(parent)) {
    const stale = (name.startsWith(`${basename(dir)}.`) && name.endsWith('.old')) || /^\.[0-9a-f]{8}\.tmp$/.test(name);
    if (stale) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

async function modelFiles(model: tf.LayersModel, metadata?: Record<string, unknown>) {
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
  return {
    'model.json': JSON.stringify(modelJson),
    'weights.bin': new Uint8Array(joinBuffers(artifacts.weightData)),
  };
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  preprocess: PreprocessFile;
  metadata: Record<string, unknown>;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
  userDefinedMetadata?: Record<string, unknown>;
}

/** Checks the manifest (when the folder has one) and that the Layers files are there. */
export function verifyCheckpoint(dir: string): void {
  for (const name of ['model.json', 'weights.bin', 'preprocess.json']) {
    const p = join(dir, name);
    if (!existsSync(p)) throw new InputError(`checkpoint is incomplete: ${p} is missing`);
  }
  verifyManifest(dir);
}

function readJson<T>(path: string, dir: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new InputError(`checkpoint ${dir} has an unreadable JSON file: ${(err as Error).message}`);
  }
}

/** Load a checkpoint folder written by saveCheckpoint (or any TF.js Layers model + preprocess.json). */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  verifyCheckpoint(dir);
  const modelJson = readJson<ModelJson>(join(dir, 'model.json'), dir);
  const preprocess = readJson<PreprocessFile>(join(dir, 'preprocess.json'), dir);
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const buf = readFileSync(join(dir, 'weights.bin'));
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

/**
 * A checkpoint's weights as tensors by their saved (original) names, without building a model:
 * a resumed run puts them into the model it built (model.loadWeights), drawing no random numbers.
 */
export function readCheckpointWeights(dir: string): { weights: tf.NamedTensorMap; metadata: Record<string, unknown> } {
  verifyCheckpoint(dir);
  const modelJson = readJson<ModelJson>(join(dir, 'model.json'), dir);
  const buf = readFileSync(join(dir, 'weights.bin'));
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const weights = tf.io.decodeWeights(
    data,
    modelJson.weightsManifest.flatMap((g) => g.weights),
  );
  return { weights, metadata: modelJson.userDefinedMetadata ?? {} };
}
