// The one entry point: builds the commander program, runs a command, and turns every error into a
// readable paragraph and the exit code of DESIGN.md (no stack trace unless --debug). Each command's module
// is imported only when it runs, so --help, validate, config and runs start without loading TF.js
// (test/cli/startup.test.ts): import nothing here that loads it.

import chalk from 'chalk';
import { Command, CommanderError, Option } from 'commander';
import { STRATEGIES } from '../config/names.ts';
import { EXIT, MtlError, UsageError } from '../errors.ts';
import { DEFAULT_STRATEGIES, strategiesHelp } from '../train/transfer/strategies/index.ts';
import {
  backendName,
  collect,
  collectStrategy,
  defaultRunsDir,
  nonNegativeInt,
  nonNegativeNumber,
  oneOf,
  positiveInt,
} from './options.ts';
import { configureColor, say } from './output.ts';
import { installSignalHandlers, interruptFlag } from './signals.ts';
import { registerSweepCommands } from './sweep-commands.ts';

/** The command line being run: `mtl train` records it in run.json (a sweep's trial host runs many). */
function buildProgram(argv: string[]): Command {
  const program = new Command('mtl')
    .description('Multi-task and transfer learning experiments on TensorFlow.js, from YAML configs.')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const runsDir = (): Option =>
    new Option('--runs-dir <dir>', 'runs folder ($MTL_RUNS_DIR or ./runs)').default(defaultRunsDir());
  const backend = (): Option => new Option('--backend <name>', 'auto | tensorflow | wasm | cpu').argParser(backendName);

  program
    .command('train')
    .argument('[config]', 'experiment YAML file (omit with --resume)')
    .description('train from a YAML experiment config (pretrain, finetune or multitask); writes a run folder')
    .option('--set <key=value>', 'override a config key (repeatable), e.g. --set trainer.optimizer.lr=3e-4', collect)
    .option('--epochs <n>', 'override trainer.epochs', positiveInt)
    .option('--seed <n>', 'override seed', nonNegativeInt)
    .option('--limit <n>', 'train on a seeded sample of N training examples', positiveInt)
    .addOption(backend())
    .option('--require-gpu', 'exit 5 unless the backend uses a GPU')
    .addOption(runsDir())
    .option('--name <name>', 'run name (default: the config file name)')
    .option('--json', 'print the summary JSON on stdout (human text goes to stderr)')
    .option(
      '--baselines',
      'multitask: also train each task alone (same architecture and budget; reused by config hash) and report Δm',
    )
    .option('--seeds <n>', 'multitask: run seeds seed … seed+N-1 and report mean ± std', positiveInt)
    .option('--resume <run>', 'continue an interrupted or crashed run instead (same as `mtl resume <run>`)')
    .option('--force', 'with --resume: resume even if the config, data, versions or backend changed')
    // Set by `mtl sweep` for its trials (a known folder to watch and resume, a link to the sweep).
    .addOption(new Option('--run-id <id>', 'create the run folder with exactly this id').hideHelp())
    .addOption(new Option('--parent-run-id <id>', "record this run as run.json's parentRunId").hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl train configs/mnist-mlp.yaml\n  $ mtl train configs/mnist-cnn.yaml --epochs 3 --limit 5000 --json\n  $ mtl train configs/mnist-mlp.yaml --set model.hidden=[256,128] --set trainer.optimizer.lr=3e-4\n  $ mtl train configs/multimnist-hps.yaml --set multitask.weighting=pcgrad --baselines\n  $ mtl train --resume latest',
    )
    .action(async (file: string | undefined, opts) => {
      if (opts.resume) {
        const { trainResumeCommand } = await import('./resume.ts');
        await trainResumeCommand(file, opts);
        return;
      }
      if (file === undefined) throw new UsageError("missing required argument 'config' (or --resume <run>)");
      const { trainCommand } = await import('./train.ts');
      await trainCommand(file, opts, argv);
    });

  program
    .command('resume')
    .argument('<run>', 'run id, unique prefix, path, or "latest"')
    .description(
      'continue an interrupted, crashed or failed run from its last completed epoch; it finishes bit for bit as an uninterrupted run would',
    )
    .option(
      '--force',
      'resume even if the config, data, versions or backend changed (run.json records resumeExact: false)',
    )
    .addOption(backend())
    .option('--require-gpu', 'exit 5 unless the backend uses a GPU')
    .addOption(runsDir())
    .option('--json', "print the run's summary JSON on stdout (human text goes to stderr)")
    .addHelpText(
      'after',
      '\nA run can be resumed when `mtl runs ls` lists it interrupted (Ctrl-C, SIGTERM), crashed (killed,\nout of memory, machine gone) or failed (e.g. disk full). A completed run is left as it is (exit 0).\n' +
        '\nExamples:\n  $ mtl resume latest\n  $ mtl resume mnist-mlp-20261130 --json\n  $ mtl train --resume mnist-mlp-20261130-121353-alzh',
    )
    .action(async (ref: string, opts) => {
      const { resumeCommand } = await import('./resume.ts');
      await resumeCommand(ref, opts);
    });

  program
    .command('transfer')
    .description(
      'pretrain on one dataset (or reuse a run), fine-tune on another with each strategy, compare with training from scratch',
    )
    .requiredOption(
      '--from <dataset|run>',
      'source: a dataset (mnist, fashion, mnist:0-4, idx:<dir>, images:<dir>, csv:<file>) or a run id/prefix/folder',
    )
    .requiredOption(
      '--to <dataset>',
      "target dataset (an images:<dir> target is decoded at the source's size and channels)",
    )
    .addOption(
      new Option('--model <type>', 'mlp (784-128-10, default) | cnn (conv32-bn → conv64-bn → dense128)').argParser(
        oneOf(['mlp', 'cnn'] as const),
      ),
    )
    .option(
      '--strategy <s>',
      `repeatable: ${STRATEGIES.join(' | ')} (default: ${DEFAULT_STRATEGIES.join(', ')})`,
      collectStrategy,
    )
    .option('--epochs <n>', 'target epochs per strategy', positiveInt, 10)
    .option('--source-epochs <n>', 'source pretraining epochs (when it must be trained)', positiveInt, 10)
    .option('--seeds <n>', 'seeds per strategy (mean ± std); child i uses seed + i', positiveInt, 1)
    .option('--seed <n>', 'base seed', nonNegativeInt, 42)
    .option('--limit <n>', 'train source and target on seeded samples of N examples', positiveInt)
    .option('--keep-head', "keep the source's output layer instead of a new head (same number of classes)")
    .addOption(backend().default('auto'))
    .option('--require-gpu', 'exit 5 unless the backend uses a GPU')
    .addOption(runsDir())
    .option('--name <name>', 'transfer run name (default <from>-to-<to>-<model>)')
    .option('--json', 'print the transfer summary JSON on stdout (human text goes to stderr)')
    .addHelpText(
      'after',
      `\nStrategies:\n${strategiesHelp()}\n` +
        '\nExamples:\n  $ mtl transfer --from mnist --to fashion\n  $ mtl transfer --from mnist --to fashion --model cnn --strategy full --strategy reinit --seeds 3\n' +
        '  $ mtl transfer --from mnist:0-4 --to mnist:5-9 --model cnn --strategy freeze-conv --strategy reinit',
    )
    .action(async (opts) => {
      const { transferCommand } = await import('./transfer.ts');
      await transferCommand(opts, argv);
    });

  program
    .command('eval')
    .argument('<run>', 'run id, unique prefix, path, or "latest"')
    .description('re-evaluate a saved checkpoint; writes eval/<timestamp>.json in the run folder')
    .option('--dataset <spec>', "dataset to evaluate on (default: the run's own)")
    .addOption(new Option('--split <split>', 'test | val').argParser(oneOf(['test', 'val'] as const)).default('test'))
    .addOption(
      new Option('--checkpoint <which>', 'best | last').argParser(oneOf(['best', 'last'] as const)).default('best'),
    )
    .addOption(backend().default('auto'))
    .addOption(runsDir())
    .option('--json', 'print the evaluation JSON on stdout')
    .option(
      '--strategy <s>',
      "transfer runs: evaluate this strategy's child (default: best fine-tuned child by validation accuracy)",
      oneOf(STRATEGIES),
    )
    .addHelpText('after', '\nExamples:\n  $ mtl eval latest\n  $ mtl eval mnist-mlp-2026 --split val --json')
    .action(async (ref: string, opts) => {
      const { evalCommand } = await import('./eval.ts');
      await evalCommand(ref, opts);
    });

  program
    .command('predict')
    .argument('<run>', 'run id, unique prefix, path, or "latest"')
    .argument('<inputs...>', 'image files or folders (a class sub-folder gives the true label), or CSV files')
    .description("predict new inputs with a run's checkpoint: class and probabilities per input (per task)")
    .addOption(
      new Option('--checkpoint <which>', 'best | last').argParser(oneOf(['best', 'last'] as const)).default('best'),
    )
    .option('--top <k>', 'keep the K most probable classes per prediction', positiveInt)
    .option('--out <file>', 'also write the predictions as a CSV file')
    .addOption(backend().default('auto'))
    .addOption(runsDir())
    .option('--json', 'print {"predictions": [...], "accuracy": {...}} on stdout')
    .option('--strategy <s>', "transfer runs: use this strategy's child", oneOf(STRATEGIES))
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl predict latest photos/cat.png photos/dogs/\n  $ mtl predict digits-mlp-2026 datasets/digits/test --json\n  $ mtl predict iris-mlp-2026 new-flowers.csv --out preds.csv --top 2',
    )
    .action(async (ref: string, inputs: string[], opts) => {
      const { predictCommand } = await import('./predict.ts');
      await predictCommand(ref, inputs, opts);
    });

  const runs = program.command('runs').description('list runs, or show one run');
  runs
    .command('ls', { isDefault: true })
    .description('list runs, newest first')
    .addOption(runsDir())
    .option('--json', 'JSON output')
    .action(async (opts) => {
      const { runsListCommand } = await import('./runs.ts');
      await runsListCommand(opts);
    });
  runs
    .command('show')
    .argument('<run>', 'run id, unique prefix, path, or "latest"')
    .addOption(runsDir())
    .option('--json', 'JSON output')
    .description(
      'show a run: what ran, how it ended, best epoch, val/test metrics, checkpoints (--json: run.json + summary.json)',
    )
    .action(async (ref: string, opts) => {
      const { runsShowCommand } = await import('./runs.ts');
      await runsShowCommand(ref, opts);
    });
  runs
    .command('compare')
    .argument('<runs...>', 'two or more runs: id, unique prefix, path or "latest"')
    .addOption(runsDir())
    .option('--all', 'list every config key, not only those that differ')
    .option('--json', 'JSON output')
    .description(
      'compare runs side by side: the config keys that differ and the metrics (val, test, best epoch, s/epoch)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl runs compare mnist-mlp-20260101-120000-ab12 mnist-mlp-20260101-121500-cd34\n  $ mtl runs compare run-a run-b run-c --json',
    )
    .action(async (refs: string[], opts) => {
      const { runsCompareCommand } = await import('./runs.ts');
      await runsCompareCommand(refs, opts);
    });

  program
    .command('report')
    .argument('<run...>', 'runs to draw: id, unique prefix, path or "latest" (several: one page comparing them)')
    .description(
      'draw runs into one self-contained HTML page: learning curves, confusion matrices, ROC curves, transfer gains, multi-task trade-offs, sweeps',
    )
    .option(
      '-o, --output <file>',
      'where to write the page (default: report.html in the run folder; several runs: ./report.html)',
    )
    .option('--title <text>', 'page title')
    .addOption(runsDir())
    .option('--json', 'print what was drawn (every chart with its data and Vega-Lite spec) as JSON')
    .addHelpText(
      'after',
      '\nThe page has no script and makes no network request: every chart is inline SVG, so it opens from disk,\n' +
        'as a CI artifact or in a mail. Each chart carries its data as CSV.\n' +
        '\nExamples:\n  $ mtl report latest\n  $ mtl report mnist-to-fashion-mlp-2026 -o transfer.html\n' +
        '  $ mtl report run-a run-b run-c -o compare.html --json > compare.json',
    )
    .action(async (refs: string[], opts) => {
      const { reportCommand } = await import('./report.ts');
      await reportCommand(refs, opts);
    });

  program
    .command('validate')
    .argument('<config>', 'experiment YAML file')
    .description('check a config; every problem is listed with its key path and file:line:col')
    .option('--set <key=value>', 'override a config key (repeatable)', collect)
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  $ mtl validate configs/mnist-mlp.yaml')
    .action(async (file: string, opts) => {
      const { validateCommand } = await import('./config-commands.ts');
      validateCommand(file, opts);
    });
  program
    .command('config')
    .argument('[config]', 'experiment YAML file')
    .description('print the fully resolved config (defaults filled in), or --reference for every key')
    .option('--set <key=value>', 'override a config key (repeatable)', collect)
    .option('--json', 'JSON output')
    .option('--reference', 'print every config key with its type, default and meaning (markdown)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl config configs/mnist-cnn.yaml --set trainer.epochs=3\n  $ mtl config --reference',
    )
    .action(async (file: string | undefined, opts) => {
      const { configCommand } = await import('./config-commands.ts');
      configCommand(file, opts);
    });

  program
    .command('bench')
    .description('time the benchmark workloads (MLP epoch, CNN epoch, transfer, multi-task) for CI')
    .addOption(
      new Option('--suite <suite>', 'quick (a few minutes) | full')
        .argParser(oneOf(['quick', 'full'] as const))
        .default('quick'),
    )
    .addOption(backend().default('auto'))
    .option(
      '--out <dir>',
      'write smaller_is_better.json, bigger_is_better.json (github-action-benchmark) and results.json',
    )
    .option('--baseline <file>', 'compare with any of those files from an earlier run')
    .option(
      '--fail-on-regression <pct>',
      'exit 4 when a workload is slower than the baseline by more than PCT percent',
      nonNegativeNumber,
    )
    .option(
      '--peers',
      'also run the PyTorch peers (bench/peers) and report mtl ÷ PyTorch ($MTL_PEER_PYTHON or python3)',
    )
    .option('--workload <name>', 'run only this workload (repeatable)', collect)
    .option(
      '--limit <n>',
      'smoke run: epoch workloads on N examples (named <workload>@N), job workloads skipped',
      positiveInt,
    )
    .option(
      '--rounds <n>',
      'run each workload (and its peer) N times, alternating which goes first; report medians over rounds',
      positiveInt,
      1,
    )
    .option('--json', 'print the results JSON on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl bench --out bench-out\n  $ mtl bench --suite full --peers\n  $ mtl bench --workload mnist-cnn --peers --rounds 3\n  $ mtl bench --baseline bench-out/smaller_is_better.json --fail-on-regression 20',
    )
    .action(async (opts) => {
      const { benchCommand } = await import('./bench.ts');
      await benchCommand(opts);
    });
  registerSweepCommands(program, runsDir);
  // Started by `mtl sweep` and `mtl worker`: runs trials' command lines one after another in this
  // process (src/sweep/host-serve.ts), so a sweep pays Node's and TF.js's start once per slot.
  program
    .command('trial-host', { hidden: true })
    .description('run command lines read from stdin, one after another (for mtl sweep and mtl worker)')
    .action(async () => {
      const { serveTrials } = await import('../sweep/host-serve.ts');
      // Every trial is a `mtl train`: its code (and TF.js) loads before the first one arrives.
      await serveTrials(runCommand, () => import('./train.ts'));
    });
  program
    .command('doctor')
    .description('report backends found, GPU use, versions and data packages')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      const { doctorCommand } = await import('./doctor.ts');
      await doctorCommand(opts);
    });
  return program;
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
      return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  const code = err instanceof MtlError ? err.exitCode : EXIT.RUNTIME;
  const message = err instanceof Error ? err.message : String(err);
  say(chalk.red(`error: ${message}`));
  if (debug && err instanceof Error && err.stack) say(chalk.dim(err.stack));
  else if (!(err instanceof MtlError)) say(chalk.dim('(run with --debug for the stack trace)'));
  return code;
}

/** Runs one command line (the arguments after `mtl`) and returns its exit code: the process's own, or
 *  one of many in a sweep's trial host (src/sweep/host-serve.ts), which is why nothing here exits. */
export async function runCommand(argv: string[]): Promise<number> {
  let code: number;
  try {
    await buildProgram(argv).parseAsync(argv, { from: 'user' });
    code = EXIT.OK;
  } catch (err) {
    code = report(err, argv.includes('--debug'));
  }
  // Interrupted training returns normally with status "interrupted": exit 130 as DESIGN.md says.
  return interruptFlag.isSet() && code === EXIT.OK ? EXIT.INTERRUPTED : code;
}

configureColor();
installSignalHandlers(() =>
  say(chalk.yellow('\ninterrupt: stopping after the current step (press Ctrl-C again to quit now)')),
);
process.exitCode = await runCommand(process.argv.slice(2));
