// What a person sees of a sweep: a live line on a TTY (done/running/pruned/failed, best so far, ETA)
// or one line per trial in logs, and at the end the points sorted by the metric with mean ± std.
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { MeanStd } from '../metrics/report.ts';
import type { SweepProgressEvent } from '../sweep/local.ts';
import { parseMetric } from '../sweep/metric.ts';
import { rankPoints } from '../sweep/summary.ts';
import type { ParamValue, SweepSummary, TrialResult } from '../sweep/types.ts';
import { say, sayHowToContinue, table } from './output.ts';

/** A parameter value as the terminal shows it: strings bare, numbers, lists and the rest as JSON. */
function formatValue(v: ParamValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function formatParams(params: Record<string, ParamValue>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k.split('.').at(-1)}=${formatValue(v)}`)
    .join(' ');
}

function meanStd(m: MeanStd | undefined, digits = 4): string {
  return m ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : '—';
}

export interface SweepProgress {
  update(event: SweepProgressEvent, summary: SweepSummary): void;
  stop(): void;
}

export function createSweepProgress(
  total: number,
  jobs: number,
  stream: NodeJS.WriteStream = process.stderr,
): SweepProgress {
  const multi = stream.isTTY
    ? new cliProgress.MultiBar(
        {
          format:
            'trials {bar} {value}/{total} | running {running} | pruned {pruned} | failed {failed} | best {best} | ETA {eta}',
          barsize: 20,
          hideCursor: true,
          clearOnComplete: true,
          stream,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bar = multi?.create(total, 0, { running: 0, pruned: 0, failed: 0, best: '—', eta: '—' });
  const line = (text: string): void => (multi ? multi.log(`${text}\n`) : say(text));
  return {
    update(event, summary) {
      const c = summary.counts;
      const done = c.completed + c.pruned + c.failed;
      // Our own ETA (mean trial time × trials left ÷ lanes): cli-progress's rate is NaN until one ends.
      const left = done > 0 ? eta(summary, done, total, jobs) : '—';
      bar?.update(done, { running: c.running, pruned: c.pruned, failed: c.failed, best: bestText(summary), eta: left });
      if (event.type === 'end')
        line(trialLine(event.result, event.trial.params, event.trial.seed, done, total, summary));
      if (event.type === 'retry') {
        line(
          chalk.yellow(
            `retry ${formatParams(event.trial.params)} seed ${event.trial.seed} in ${event.delaySeconds} s (attempt ${event.attempt} failed: ${oneLine(event.error)})`,
          ),
        );
      }
      if (event.type === 'decision' && event.decision.action === 'stop') {
        line(chalk.dim(`prune ${formatParams(event.trial.params)} seed ${event.trial.seed}: ${event.decision.reason}`));
      }
      if (event.type === 'end' && !multi && done < total) {
        say(chalk.dim(`  ${done}/${total} done, ${c.running} running; ETA ${eta(summary, done, total, jobs)}`));
      }
    },
    stop() {
      // Lines logged since the last redraw (the last trial's, when it ends the sweep) are written by a
      // redraw only: stop() alone would drop them.
      multi?.update();
      multi?.stop();
    },
  };
}

/** Remaining trials × the mean seconds of those that ended, shared by `jobs` lanes. */
function eta(s: SweepSummary, done: number, total: number, jobs: number): string {
  const perTrial = s.timing.trialSeconds / Math.max(done, 1);
  return `${Math.round((perTrial * (total - done)) / jobs)} s`;
}

function bestText(s: SweepSummary): string {
  if (!s.best) return '—';
  const ref = parseMetric(s.metric);
  return `${s.best.val[ref.key]?.mean.toFixed(4)} (${formatParams(s.best.params)})`;
}

/** A multi-line error (a config error lists its problems on the lines after the first) on one line. */
function oneLine(error: string): string {
  return error
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
}

function trialLine(
  r: TrialResult,
  params: Record<string, ParamValue>,
  seed: number,
  done: number,
  total: number,
  s: SweepSummary,
): string {
  const t = s.trials.find((x) => x.trialId === r.trialId);
  const ref = parseMetric(s.metric);
  const head = `[${done}/${total}] ${formatParams(params)} seed ${seed}`;
  if (r.status === 'failed') return chalk.red(`${head}: failed: ${oneLine(r.error ?? '')}`);
  const val = t?.val?.[ref.key];
  const test = t?.test?.accuracy;
  const what = r.status === 'pruned' ? chalk.yellow(`pruned at epoch ${r.pruned?.epoch}`) : 'completed';
  return `${head}: ${what}  val ${ref.key} ${val?.toFixed(4) ?? '—'}  test acc ${test?.toFixed(4) ?? '—'}  ${r.seconds.toFixed(1)} s  ${r.runId}`;
}

/** The points table, best first, then the best point and the counts. */
export function printSweepResult(s: SweepSummary): void {
  const ref = parseMetric(s.metric);
  const keys = Object.keys(s.points[0]?.params ?? {});
  const rows = rankPoints(s.points, s.metric).map((p) => [
    ...keys.map((k) => formatValue(p.params[k]!)),
    meanStd(p.val?.[ref.key]),
    meanStd(p.test?.accuracy),
    `${p.completed}/${p.seeds.length}${p.pruned ? ` (${p.pruned} pruned)` : ''}`,
  ]);
  say();
  say(table([...keys, `val ${ref.key} (mean ± std)`, 'test accuracy', 'seeds'], rows));
  say();
  if (s.best) {
    say(
      `${chalk.bold('best')}: ${formatParams(s.best.params)}  val ${ref.key} ${meanStd(s.best.val[ref.key])}` +
        `  (test accuracy ${meanStd(s.best.test?.accuracy)}; chosen on validation only)`,
    );
  }
  const c = s.counts;
  const status = s.status === 'completed' ? chalk.green(s.status) : chalk.yellow(s.status);
  say(
    `${chalk.bold(status)} ${s.runId}: ${s.trials.length} trials (${c.completed} completed, ${c.pruned} pruned, ${c.failed} failed` +
      `${c.running ? `, ${c.running} running` : ''}${c.queued ? `, ${c.queued} queued` : ''}${c.planned ? `, ${c.planned} not run` : ''}` +
      `) in ${s.timing.totalSeconds.toFixed(1)} s`,
  );
  const o = s.timing.perTrial;
  if (o) {
    const mm = (x: { median: number; max: number }) => `${x.median.toFixed(2)} / ${x.max.toFixed(2)} s`;
    say(
      chalk.dim(
        `per trial (median / max): ${mm(o.seconds)}; outside its run ${mm(o.startSeconds)} (the most where a ` +
          `trial starts a process: Node, TF.js, kernels)${o.dataSeconds ? `; data read and prepared ${mm(o.dataSeconds)}` : ''}`,
      ),
    );
  }
  say(chalk.dim(`sweep folder: ${s.runDir}`));
  sayHowToContinue(s, 'sweep');
}

/** `--dry-run`: every planned trial. */
export function printPlan(
  trials: readonly { trialId: string; params: Record<string, ParamValue>; seed: number; error?: string }[],
): void {
  say(
    table(
      ['trial', 'params', 'seed'],
      trials.map((t) => [t.trialId, formatParams(t.params), String(t.seed)]),
    ),
  );
  for (const t of trials.filter((x) => x.error)) say(chalk.red(`${t.trialId}: ${t.error}`));
}
