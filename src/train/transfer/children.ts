// The children of `mtl transfer`: one fine-tune run per strategy and seed, in a fixed order. A resumed
// transfer keeps the children that had completed, resumes the one that was interrupted, runs the rest.
import { join } from 'node:path';
import type { Config, FinetuneStrategy } from '../../config/types.ts';
import { IntegrityError } from '../../errors.ts';
import { openResumeTarget } from '../../resume/target.ts';
import { type ResolvedRun, resolveRun } from '../../runs/resolve.ts';
import { updateRunRecord } from '../../runs/run-record.ts';
import type { RunContext } from '../single/experiment.ts';
import type { RunSummary } from '../summary.ts';
import { runFinetune } from './finetune-run.ts';
import { runContext, type TransferRun } from './job-types.ts';
import { readSummary } from './source.ts';
import type { ChildResult } from './stats.ts';
import { strategy } from './strategies/index.ts';

/** `<name>-<strategy>`, cut to the 64 characters a run name may have. */
export function childName(name: string, strategy: FinetuneStrategy): string {
  return `${name.slice(0, 63 - strategy.length)}-${strategy}`;
}

/** Seeds outer, strategies inner: an interrupted transfer still has complete, paired seeds. */
export async function runChildren(
  run: TransferRun,
  base: Config,
): Promise<{ results: ChildResult[]; interrupted: boolean }> {
  const { plan, hooks } = run;
  const jobs = plan.seeds.flatMap((seed, i) =>
    plan.strategies
      // An evaluate-only strategy (zero-shot) has no randomness: it runs once, with the first seed.
      .filter((s) => !strategy(s).evaluateOnly || (i === 0 && plan.zeroShotSkip === null))
      .map((strategy) => ({ strategy, seed })),
  );
  if (plan.strategies.includes('zero-shot') && plan.zeroShotSkip)
    hooks.onEvent?.({ type: 'zero-shot-skipped', reason: plan.zeroShotSkip });
  const results: ChildResult[] = [];
  const children: string[] = [...(run.resume?.childRunIds ?? [])];
  let linked: Promise<unknown> = Promise.resolve();
  for (const [index, { strategy, seed }] of jobs.entries()) {
    if (hooks.shouldStop?.()) return { results, interrupted: true };
    const config: Config = {
      ...base,
      name: childName(base.name, strategy),
      seed,
      finetune: { ...base.finetune, strategy },
    };
    const prior = await priorChild(run, index, config);
    if (prior?.record.status === 'completed') {
      const result = childResult(strategy, readSummary(prior.dir));
      results.push(result);
      hooks.onEvent?.({ type: 'child-kept', result });
      continue;
    }
    hooks.onEvent?.({ type: 'child', strategy, seed, index, total: jobs.length });
    const ctx: RunContext = {
      ...runContext(run.o, hooks, `${strategy} s${seed}`, run.id, 'finetune'),
      onRunCreated: (childId) => {
        if (children.includes(childId)) return;
        children.push(childId);
        linked = updateRunRecord(run.dir, { childRunIds: [...children] });
      },
      ...(prior ? { resume: openResumeTarget(prior, run.resume!.target.force) } : {}),
    };
    const summary = await runFinetune(config, ctx);
    await linked;
    if (summary.status !== 'completed') return { results, interrupted: true };
    const result = childResult(strategy, summary);
    results.push(result);
    hooks.onEvent?.({ type: 'child-done', result });
  }
  return { results, interrupted: false };
}

/** A resumed transfer's child for job `index`, checked to be that job's run (same name and seed). */
async function priorChild(run: TransferRun, index: number, config: Config): Promise<ResolvedRun | null> {
  const id = run.resume?.childRunIds[index];
  if (!id) return null;
  const child = await resolveRun(run.o.runsDir, id);
  if (child.record.name !== config.name || child.record.seed !== config.seed) {
    throw new IntegrityError(
      `transfer run ${run.id}: child ${index + 1} is ${child.id} (${child.record.name}, seed ${child.record.seed}), ` +
        `but the plan's job ${index + 1} is ${config.name} with seed ${config.seed}`,
      join(run.dir, 'run.json'),
    );
  }
  return child;
}

function childResult(strategy: FinetuneStrategy, s: RunSummary): ChildResult {
  return {
    strategy,
    seed: s.seed,
    runId: s.runId,
    test: s.test,
    valAccuracy: s.val?.accuracy ?? null,
    bestEpoch: s.bestEpoch,
    seconds: s.timing.totalSeconds,
    testExamples: s.data?.test ?? 0,
  };
}
