// `mtl bench`: run the benchmark suite, print the table, write github-action-benchmark files with
// --out, and compare with --baseline (a slowdown beyond --fail-on-regression exits 4).
import chalk from 'chalk';
import { reportMetrics, writeBenchOutputs } from '../bench/format.ts';
import { type Comparison, compareWithBaseline, readBaseline, workloadOf } from '../bench/regression.ts';
import { runBench } from '../bench/suite.ts';
import type { BenchReport, PeerResult, Suite, WorkloadResult } from '../bench/types.ts';
import type { BackendName } from '../config/types.ts';
import { ThresholdError, UsageError } from '../errors.ts';
import { fmt, printJson, say, table } from './output.ts';

export interface BenchCliOptions {
  suite: Suite;
  backend: BackendName;
  out?: string;
  baseline?: string;
  failOnRegression?: number;
  json?: boolean;
  peers?: boolean;
  workload?: string[];
  limit?: number;
  rounds?: number;
}

export async function benchCommand(o: BenchCliOptions): Promise<BenchReport> {
  if (o.failOnRegression !== undefined && !o.baseline)
    throw new UsageError('--fail-on-regression needs --baseline FILE');
  const baseline = o.baseline ? await readBaseline(o.baseline) : null;
  const rounds = o.rounds ?? 1;
  say(
    chalk.dim(
      `mtl bench: suite ${o.suite}, backend ${o.backend}${o.peers ? ', with PyTorch peers' : ''}${rounds > 1 ? `, ${rounds} rounds` : ''}`,
    ),
  );
  const report = await runBench(
    { suite: o.suite, backend: o.backend, peers: o.peers ?? false, only: o.workload, limit: o.limit, rounds },
    {
      onWorkloadStart: (w, i, n, round) =>
        say(
          chalk.bold(`[${i + 1}/${n}] ${w.name}`) +
            chalk.dim(`${rounds > 1 ? ` (round ${round}/${rounds})` : ''}  ${w.description}`),
        ),
      onStderrLine: (line) => say(chalk.dim(`    ${line}`)),
      onWorkloadEnd: (r) => say(`    → ${describe(r)}`),
      onPeerStart: (w) =>
        say(chalk.bold(`peer ${w.name}`) + chalk.dim(`  bench/peers/${w.kind === 'epoch' ? w.peer?.script : ''}`)),
      onPeerEnd: (p) => say(`    → ${p.engine}: ${fmt(p.secondsPerEpoch.median, 3)} s/epoch`),
      onRoundEnd: (w, round, pair) =>
        say(
          chalk.dim(
            `    ${w.name}${rounds > 1 ? ` round ${round}` : ''}: mtl ${fmt(pair.mtl, 3)} ÷ PyTorch ${fmt(pair.peer, 3)} s/epoch = ${pair.ratio.toFixed(2)}x`,
          ),
        ),
      onSkip: (name, reason) => say(chalk.yellow(`skipped ${name}: ${reason}`)),
    },
  );
  const comparisons = baseline ? compareWithBaseline(reportMetrics(report), baseline, o.failOnRegression ?? null) : [];
  const written = o.out ? await writeBenchOutputs(o.out, report) : [];
  if (o.json) printJson(baseline ? { ...report, comparison: comparisons } : report);
  printReport(report);
  if (baseline) printComparison(comparisons, o.failOnRegression ?? null);
  for (const file of written) say(chalk.dim(`wrote ${file}`));
  const regressed = comparisons.filter((c) => c.regressed);
  if (regressed.length) {
    const names = [...new Set(regressed.map((c) => workloadOf(c.name)))];
    throw new ThresholdError(
      `benchmark regression beyond ${o.failOnRegression}% in ${names.join(', ')}: ` +
        regressed
          .map(
            (c) => `${c.name} ${fmt(c.baseline, 3)} → ${fmt(c.current, 3)} ${c.unit} (${c.worsePct.toFixed(1)}% worse)`,
          )
          .join('; '),
    );
  }
  return report;
}

function describe(r: WorkloadResult): string {
  const parts = r.secondsPerEpoch
    ? [
        `${fmt(r.secondsPerEpoch.median, 3)} s/epoch (${fmt(r.secondsPerEpoch.min, 3)}–${fmt(r.secondsPerEpoch.max, 3)})`,
        `${Math.round(r.samplesPerSecond ?? 0)} samples/s`,
      ]
    : [`${fmt(r.wallSeconds, 1)} s wall`];
  if (r.peakRssMB !== null) parts.push(`peak RSS ${r.peakRssMB} MB`);
  if (r.accuracy !== null) parts.push(`test accuracy ${(r.accuracy * 100).toFixed(2)}%`);
  return parts.join(', ');
}

function printReport(report: BenchReport): void {
  const peerOf = (name: string): PeerResult | undefined => report.peers.find((p) => p.workload === name);
  say();
  say(
    table(
      ['workload', 's/epoch', 'min–max', 'samples/s', 'wall s', 'peak RSS MB', 'test acc', 'PyTorch s/epoch', 'ratio'],
      report.workloads.map((r) => {
        const s = r.secondsPerEpoch;
        const p = peerOf(r.name);
        return [
          r.name,
          s ? fmt(s.median, 3) : '—',
          s ? `${fmt(s.min, 2)}–${fmt(s.max, 2)}` : '—',
          r.samplesPerSecond ? String(Math.round(r.samplesPerSecond)) : '—',
          fmt(r.wallSeconds, 1),
          String(r.peakRssMB ?? '—'),
          r.accuracy === null ? '—' : `${(r.accuracy * 100).toFixed(2)}%`,
          p ? fmt(p.secondsPerEpoch.median, 3) : '—',
          p?.ratio ? `${p.ratio.toFixed(2)}x` : '—',
        ];
      }),
    ),
  );
  const h = report.host;
  const backends = [
    ...new Set(
      report.workloads.map(
        (r) =>
          `${r.backend ?? '?'}${r.threads ? ` (${r.threads} thread${r.threads === 1 ? '' : 's'}${r.kernels ? `, ${r.kernels}` : ''})` : ''}`,
      ),
    ),
  ];
  say(
    chalk.dim(
      `\n${h.cpu}, ${h.cores} cores [${h.cpuFlags.join(' ')}], node ${h.node}; backend ${backends.join(', ') || report.backendRequested}`,
    ),
  );
  if (report.peers.length)
    say(
      chalk.dim(
        report.rounds > 1
          ? `ratio = the median over ${report.rounds} rounds of mtl median s/epoch ÷ PyTorch's, each pair run one after the other on the same machine (below 1 = mtl faster); s/epoch = median of the rounds' medians`
          : 'ratio = mtl median s/epoch ÷ PyTorch median s/epoch, same machine, run one after the other (below 1 = mtl faster)',
      ),
    );
  for (const p of report.peers.filter((x) => x.rounds))
    say(chalk.dim(`${p.workload} ratio by round: ${p.rounds!.map((r) => `${r.ratio.toFixed(2)}x`).join(', ')}`));
}

const num = (x: number): string => (Number.isInteger(x) ? String(x) : fmt(x, 3));

function printComparison(comparisons: Comparison[], failPct: number | null): void {
  if (comparisons.length === 0) {
    say(chalk.yellow('\nbaseline: no metric names in common with this run'));
    return;
  }
  say();
  say(
    table(
      ['metric', 'baseline', 'now', 'worse by', ''],
      comparisons.map((c) => [
        c.name,
        `${num(c.baseline)} ${c.unit}`,
        `${num(c.current)} ${c.unit}`,
        `${c.worsePct >= 0 ? '+' : ''}${c.worsePct.toFixed(1)}%`,
        c.regressed ? chalk.red('REGRESSION') : c.speed && failPct !== null ? chalk.green('ok') : '',
      ]),
    ),
  );
}
