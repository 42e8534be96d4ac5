// The source side of `mtl transfer`: the model presets, the resolved pretrain config for `--from
// <dataset>`, finding a completed run of exactly that config to reuse, or using `--from <run>`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDatasetSpec } from '../../config/dataset-spec.ts';
import { configSchema } from '../../config/schema.ts';
import type { BackendName, Config, ModelConfig, ResolvedConfig } from '../../config/types.ts';
import { InputError, UsageError } from '../../errors.ts';
import { verifyCheckpoint } from '../../models/checkpoint.ts';
import { convBlock } from '../../models/types/cnn.ts';
import { listRuns, type ResolvedRun, resolveRun } from '../../runs/resolve.ts';
import { hashConfig } from '../../runs/run-record.ts';
import { readRunConfig } from '../single/evaluate.ts';
import type { RunSummary, TestMetrics } from '../summary.ts';

export type ModelPreset = 'mlp' | 'cnn';

/** `--model`: the seed's MLP (784-128-10), and Keras's mnist_convnet layout with BatchNorm per conv. */
export const MODEL_PRESETS: Record<ModelPreset, ModelConfig> = {
  mlp: { type: 'mlp', hidden: [128], activation: 'relu', dropout: 0 },
  cnn: {
    type: 'cnn',
    conv: [convBlock(32, 3, true), convBlock(64, 3, true)],
    dense: [128],
    activation: 'relu',
    dropout: 0,
  },
};

/**
 * What each preset changes in the seed's trainer (Adam 1e-3, batch 128, constant LR). The CNN decays
 * its learning rate on a cosine to 0 over each run (source and every target child alike, `reinit`
 * included): with a constant rate it overfits Fashion-MNIST after ~5 epochs (validation 91.07% at
 * epoch 5, then down; test 90.41%), with the cosine validation kept rising to 91.85% at epoch 8
 * (test 91.32%) — README "Measured". The MLP keeps the seed's constant rate.
 */
export const PRESET_TRAINER: Record<ModelPreset, { schedule?: { name: 'cosine' } }> = {
  mlp: {},
  cnn: { schedule: { name: 'cosine' } },
};

export interface SourceRequest {
  /** A dataset spec (`mnist`, `mnist:0-4`…) or a run reference (id, prefix, folder, `latest`). */
  from: string;
  /** Default `mlp`. */
  model?: ModelPreset;
  seed: number;
  backend: BackendName;
  limit: number | null;
  epochs: number;
}

export interface SourceInfo {
  runId: string;
  runDir: string;
  checkpointDir: string;
  config: ResolvedConfig;
  test: TestMetrics;
  /** true when an existing run was used (a `--from <run>`, or a matching pretrain run). */
  reused: boolean;
}

export function isDatasetRef(from: string): boolean {
  return parseDatasetSpec(from).ok;
}

function isTableRef(from: string): boolean {
  const parsed = parseDatasetSpec(from);
  return parsed.ok && parsed.spec.source === 'csv';
}

/** A readable slug of a dataset spec for run names: `mnist:0-4` → `mnist0-4`, `idx:a/b` → `b`. */
export function datasetSlug(spec: string): string {
  const arg = /^(idx|images|csv):/.exec(spec);
  const base = arg
    ? (spec
        .slice(arg[0].length)
        .replace(/[/\\]+$/, '')
        .split(/[/\\]/)
        .pop() ?? 'idx')
    : spec;
  return (
    base
      .replace(/:/g, '')
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 24) || 'data'
  );
}

/**
 * The pretrain config `--from <dataset>` stands for: the seed's setup (10% validation, Adam 1e-3, batch
 * 128) with the preset model and pixels scaled to [0, 1] (as configs/mnist-mlp.yaml explains, the
 * seed's StandardScaler costs MNIST accuracy). Named `<dataset>-<model>`, so `mtl train
 * configs/mnist-mlp.yaml` resolves to the same config (and hash) as `--from mnist --model mlp`.
 */
export function sourceConfigFor(req: SourceRequest): Config {
  const preset = req.model ?? 'mlp';
  return configSchema.parse({
    name: `${datasetSlug(req.from)}-${preset}`,
    seed: req.seed,
    backend: req.backend,
    // A table's columns are standardized (the default); scale01 on pixels is the seed's choice for images.
    data: { dataset: req.from, limit: req.limit, ...(isTableRef(req.from) ? {} : { normalize: 'scale01' }) },
    model: MODEL_PRESETS[preset],
    trainer: { mode: 'pretrain', epochs: req.epochs, ...PRESET_TRAINER[preset] },
  });
}

/** The newest completed pretrain run whose config hash equals `config`'s and that has a best checkpoint. */
export async function findReusableSource(runsDir: string, config: ResolvedConfig): Promise<ResolvedRun | null> {
  const hash = hashConfig(config);
  const runs = await listRuns(runsDir);
  return (
    runs.find(
      (r) =>
        r.record.kind === 'pretrain' &&
        r.record.status === 'completed' &&
        r.record.configHash === hash &&
        existsSync(join(r.dir, 'checkpoints', 'best', 'model.json')) &&
        existsSync(join(r.dir, 'summary.json')),
    ) ?? null
  );
}

/** `--from <run>`: a completed single-task run with a best checkpoint; its config gives the model. */
export async function sourceFromRun(runsDir: string, ref: string, model: ModelPreset | undefined): Promise<SourceInfo> {
  const run = await resolveRun(runsDir, ref);
  if (run.record.kind === 'transfer' || run.record.kind === 'multitask') {
    throw new UsageError(
      `--from ${ref}: run ${run.id} is a ${run.record.kind} run; transfer needs a single-task run (pretrain or finetune)`,
    );
  }
  if (run.record.status !== 'completed')
    throw new InputError(`--from ${ref}: run ${run.id} did not complete (status ${run.record.status})`);
  const config = readRunConfig(run.dir);
  if (model !== undefined && config.model.type !== model) {
    throw new UsageError(`--model ${model} conflicts with the source run ${run.id}, which is a ${config.model.type}`);
  }
  return { ...sourceFromFolder(run), config, reused: true };
}

/** Run id, folders and test metrics of a completed source run. */
export function sourceFromFolder(run: ResolvedRun): Omit<SourceInfo, 'config' | 'reused'> {
  const checkpointDir = join(run.dir, 'checkpoints', 'best');
  if (!existsSync(join(checkpointDir, 'model.json')))
    throw new InputError(`source run ${run.id} has no best checkpoint`);
  // A damaged source checkpoint fails here, naming the file, before any child run is made.
  verifyCheckpoint(checkpointDir);
  return { runId: run.id, runDir: run.dir, checkpointDir, test: readSummary(run.dir).test };
}

export function readSummary(runDir: string): RunSummary {
  try {
    return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  } catch (err) {
    throw new InputError(`cannot read ${join(runDir, 'summary.json')}: ${(err as Error).message}`);
  }
}
