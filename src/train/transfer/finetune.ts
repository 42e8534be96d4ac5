// The fine-tune setup: build the target model, copy the source checkpoint's backbone into it (new
// head unless init.keepHead), and hand the loop the strategy's parameter groups, phase by phase.
import type { MonitorName, OptimizerConfig, ResolvedConfig } from '../../config/types.ts';
import { tf } from '../../engine/backend/tf.ts';
import { ConfigError, InputError } from '../../errors.ts';
import { buildModel } from '../../models/build.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { isHeadLayer } from '../../models/names.ts';
import type { EpochRecord } from '../loop.ts';
import { monitorMode } from '../loop.ts';
import { createOptimizer } from '../optimizers.ts';
import type { ParamGroup } from '../single/classifier.ts';
import type { ModelSetupFn, PhaseHook } from '../single/experiment.ts';
import { blockOf, type PhasePlan, PlanError, planStrategy, strategy as strategyOf } from './strategies/index.ts';

/** Weighted layers grouped by block (`conv_N` + `bn_N`, `dense_N`, `head`), in model order. */
export function layerBlocks(model: tf.LayersModel): Map<string, tf.layers.Layer[]> {
  const blocks = new Map<string, tf.layers.Layer[]>();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const name = blockOf(layer.name);
    blocks.set(name, [...(blocks.get(name) ?? []), layer]);
  }
  return blocks;
}

/** Setup for trainer.mode finetune; `sourceDir` is a checkpoint folder (unused by `reinit`). */
export function finetuneSetup(sourceDir: string | null): ModelSetupFn {
  return async (config, data, rng) => {
    const strategy = config.finetune.strategy;
    const built = buildModel(config.model, {
      imageShape: data.dataset.inputShape,
      numClasses: data.dataset.numClasses,
      rng,
    });
    if (strategyOf(strategy).usesSource) {
      if (sourceDir === null)
        throw new ConfigError([{ path: 'init.from', message: `strategy '${strategy}' needs a source to start from` }]);
      await copySourceWeights(built.model, sourceDir, { keepHead: config.init.keepHead, inputShape: built.inputShape });
    }
    const blocks = layerBlocks(built.model);
    let phases: PhasePlan[];
    try {
      phases = planStrategy(strategy, [...blocks.keys()], config.finetune);
    } catch (err) {
      if (err instanceof PlanError)
        throw new ConfigError([{ path: 'finetune.strategy', message: `'${strategy}': ${err.message}` }]);
      throw err;
    }
    if (phases.length === 0)
      throw new ConfigError([
        { path: 'finetune.strategy', message: `'${strategy}' does not train; it is run by runFinetune` },
      ]);
    const groups = groupFactory(blocks, config.trainer.optimizer);
    return { built, groups: groups(phases[0]!), phase: createPhaseHook(config, phases, groups) };
  };
}

/**
 * ParamGroups of a phase, with one optimizer per group name kept across phases: the head's Adam
 * moments survive lp-ft's switch, and a block unfrozen by `gradual` keeps its state afterwards.
 * Asserts the plan matched layers, so a renamed layer cannot silently leave a block untrained.
 */
export function groupFactory(
  blocks: Map<string, tf.layers.Layer[]>,
  optimizer: OptimizerConfig,
): (phase: PhasePlan) => ParamGroup[] {
  const optimizers = new Map<string, tf.Optimizer>();
  return (phase) =>
    phase.groups.map((g) => {
      const layers = g.blocks.flatMap((b) => {
        const found = blocks.get(b);
        if (!found)
          throw new Error(
            `freeze plan '${phase.name}' names block '${b}', which the model lacks (blocks: ${[...blocks.keys()].join(', ')})`,
          );
        return found.filter((l) => l.trainableWeights.length > 0);
      });
      if (layers.length === 0)
        throw new Error(`freeze plan '${phase.name}': group '${g.name}' matched no trainable layer`);
      if (!optimizers.has(g.name)) optimizers.set(g.name, createOptimizer(optimizer));
      return { name: g.name, layers, optimizer: optimizers.get(g.name)!, lrScale: g.lrScale };
    });
}

/** Chooses each epoch's phase with the strategy's own rule (gradual: by epoch; lp-ft: by probe convergence). */
export function createPhaseHook(
  config: ResolvedConfig,
  phases: PhasePlan[],
  groups: (p: PhasePlan) => ParamGroup[],
): PhaseHook {
  const ft = config.finetune;
  const phaseAt = strategyOf(ft.strategy).phaseAt;
  let current = 0;
  const pick = (epoch: number, history: readonly EpochRecord[]): number =>
    phaseAt
      ? phaseAt({
          epoch,
          current,
          phases: phases.length,
          ft,
          epochs: config.trainer.epochs,
          monitorValues: () => monitorValues(history, config.trainer.monitor),
          monitorMode: monitorMode(config.trainer.monitor),
          minDelta: config.trainer.earlyStopping.minDelta,
        })
      : current;
  return {
    beginEpoch(epoch, history) {
      const next = pick(epoch, history);
      if (next === current) return null;
      current = next;
      return groups(phases[current]!);
    },
    describe: () => {
      const p = phases[current]!;
      return { phase: p.name, groups: p.groups.map((g) => ({ name: g.name, blocks: g.blocks, lrScale: g.lrScale })) };
    },
    // lp-ft's switch depends on the probe's history, so the phase that ran last is saved, not recomputed.
    saveState: () => current,
    restoreState: (state) => {
      const saved = Number(state);
      if (!Number.isInteger(saved) || saved < 0 || saved >= phases.length || saved === current) return null;
      current = saved;
      return groups(phases[current]!);
    },
  };
}

function monitorValues(history: readonly EpochRecord[], monitor: MonitorName): number[] {
  const key = monitor.slice(4);
  return history
    .map((h) => (h.val as Record<string, number> | null)?.[key])
    .filter((v): v is number => typeof v === 'number');
}

export interface CopyOptions {
  keepHead: boolean;
  inputShape: number[];
}

/**
 * Copy every weight (BatchNorm moving statistics included) of the source checkpoint into the layers
 * of `target` with the same names; the head is skipped unless keepHead. Every target layer copied
 * must exist in the source with the same weight shapes, or the architectures differ.
 */
export async function copySourceWeights(
  target: tf.LayersModel,
  sourceDir: string,
  options: CopyOptions,
): Promise<void> {
  const source = await loadCheckpoint(sourceDir);
  try {
    const shape = source.preprocess.inputShape;
    if (shape.join(',') !== options.inputShape.join(',')) {
      throw new InputError(
        `source checkpoint ${sourceDir} takes inputs of shape [${shape}], the target model [${options.inputShape}]`,
      );
    }
    for (const layer of target.layers) {
      if (layer.weights.length === 0 || (isHeadLayer(layer.name) && !options.keepHead)) continue;
      const from = source.model.layers.find((l) => l.name === layer.name);
      if (!from)
        throw new InputError(`source checkpoint ${sourceDir} has no layer '${layer.name}': model configs differ`);
      const weights = from.getWeights();
      const want = layer.weights.map((w) => w.shape.join('x')).join(', ');
      const got = weights.map((w) => w.shape.join('x')).join(', ');
      if (want !== got) {
        const hint = isHeadLayer(layer.name) ? ' (init.keepHead needs the same number of classes)' : '';
        throw new InputError(`layer '${layer.name}': source weights are [${got}], target [${want}]${hint}`);
      }
      // Copies, so the target owns its values once the source model is disposed.
      const copies = weights.map((w) => w.clone());
      layer.setWeights(copies);
      tf.dispose(copies);
    }
  } finally {
    source.model.dispose();
  }
}
