// The one entry point: builds the commander program, runs a command, and turns every error into a
// readable paragraph and the exit code of DESIGN.md (no stack trace unless --debug).
import { Command, CommanderError, Option } from 'commander';
import chalk from 'chalk';
import { EXIT, MtlError, UsageError } from '../errors.ts';
import { configCommand, validateCommand } from './config-commands.ts';
import { doctorCommand } from './doctor.ts';
import { evalCommand } from './eval.ts';
import { backendName, collect, defaultRunsDir, nonNegativeInt, oneOf, positiveInt } from './options.ts';
import { configureColor, say } from './output.ts';
import { runsListCommand, runsShowCommand } from './runs.ts';
import { installSignalHandlers } from './signals.ts';
import { trainCommand } from './train.ts';

const argv = process.argv.slice(2);
const debug = argv.includes('--debug');

function buildProgram(): Command {
  const program = new Command('mtl')
    .description('Multi-task and transfer learning experiments on TensorFlow.js, from YAML configs.')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  const runsDir = (): Option => new Option('--runs-dir <dir>', 'runs folder ($MTL_RUNS_DIR or ./runs)').default(defaultRunsDir());
  const backend = (): Option => new Option('--backend <name>', 'auto | tensorflow | wasm | cpu').argParser(backendName);

  program.command('train').argument('<config>', 'experiment YAML file')
    .description('train from a YAML experiment config (pretrain or finetune); writes a run folder')
    .option('--set <key=value>', 'override a config key (repeatable), e.g. --set trainer.optimizer.lr=3e-4', collect)
    .option('--epochs <n>', 'override trainer.epochs', positiveInt)
    .option('--seed <n>', 'override seed', nonNegativeInt)
    .option('--limit <n>', 'train on a seeded sample of N training examples', positiveInt)
    .addOption(backend())
    .option('--require-gpu', 'exit 5 unless the backend uses a GPU')
    .addOption(runsDir())
    .option('--name <name>', 'run name (default: the config file name)')
    .option('--json', 'print the summary JSON on stdout (human text goes to stderr)')
    .addHelpText('after', '\nExamples:\n  $ mtl train configs/mnist-mlp.yaml\n  $ mtl train configs/mnist-cnn.yaml --epochs 3 --limit 5000 --json\n  $ mtl train configs/mnist-mlp.yaml --set model.hidden=[256,128] --set trainer.optimizer.lr=3e-4')
    .action(async (file: string, opts) => { await trainCommand(file, opts, argv); });

  program.command('transfer')
    .description('pretrain on one dataset, fine-tune on another, compare with training from scratch (coming soon)')
    .action(() => { throw new UsageError('mtl transfer is coming soon: it is not available in this version yet'); });

  program.command('eval').argument('<run>', 'run id, unique prefix, path, or "latest"')
    .description('re-evaluate a saved checkpoint; writes eval/<timestamp>.json in the run folder')
    .option('--dataset <spec>', 'dataset to evaluate on (default: the run\'s own)')
    .addOption(new Option('--split <split>', 'test | val').argParser(oneOf(['test', 'val'] as const)).default('test'))
    .addOption(new Option('--checkpoint <which>', 'best | last').argParser(oneOf(['best', 'last'] as const)).default('best'))
    .addOption(backend().default('auto')).addOption(runsDir())
    .option('--json', 'print the evaluation JSON on stdout')
    .addHelpText('after', '\nExamples:\n  $ mtl eval latest\n  $ mtl eval mnist-mlp-2026 --split val --json')
    .action(async (ref: string, opts) => { await evalCommand(ref, opts); });

  const runs = program.command('runs').description('list runs, or show one run');
  runs.command('ls', { isDefault: true }).description('list runs, newest first').addOption(runsDir()).option('--json', 'JSON output')
    .action(async (opts) => { await runsListCommand(opts); });
  runs.command('show').argument('<run>', 'run id, unique prefix, path, or "latest"').addOption(runsDir()).option('--json', 'JSON output')
    .description('show run.json and summary.json of a run').action(async (ref: string, opts) => { await runsShowCommand(ref, opts); });

  program.command('validate').argument('<config>', 'experiment YAML file')
    .description('check a config; every problem is listed with its key path and file:line:col')
    .option('--set <key=value>', 'override a config key (repeatable)', collect).option('--json', 'JSON output')
    .addHelpText('after', '\nExample:\n  $ mtl validate configs/mnist-mlp.yaml')
    .action((file: string, opts) => validateCommand(file, opts));
  program.command('config').argument('[config]', 'experiment YAML file')
    .description('print the fully resolved config (defaults filled in), or --reference for every key')
    .option('--set <key=value>', 'override a config key (repeatable)', collect).option('--json', 'JSON output')
    .option('--reference', 'print every config key with its type, default and meaning (markdown)')
    .addHelpText('after', '\nExamples:\n  $ mtl config configs/mnist-cnn.yaml --set trainer.epochs=3\n  $ mtl config --reference')
    .action((file: string | undefined, opts) => configCommand(file, opts));

  program.command('bench').description('benchmark workloads for CI (coming soon)')
    .action(() => { throw new UsageError('mtl bench is coming soon: it is not available in this version yet'); });
  program.command('doctor').description('report backends found, GPU use, versions and data packages')
    .option('--json', 'JSON output').action(async (opts) => { await doctorCommand(opts); });
  return program;
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE; // commander already printed the message
  }
  const code = err instanceof MtlError ? err.exitCode : EXIT.RUNTIME;
  const message = err instanceof Error ? err.message : String(err);
  say(chalk.red(`error: ${message}`));
  if (debug && err instanceof Error && err.stack) say(chalk.dim(err.stack));
  else if (!(err instanceof MtlError)) say(chalk.dim('(run with --debug for the stack trace)'));
  return code;
}

async function main(): Promise<number> {
  configureColor();
  installSignalHandlers(() => say(chalk.yellow('\ninterrupt: stopping after the current step (press Ctrl-C again to quit now)')));
  try {
    await buildProgram().parseAsync(process.argv);
    return EXIT.OK;
  } catch (err) {
    return report(err);
  }
}

const code = await main();
// Interrupted training returns normally with status "interrupted": exit 130 as DESIGN.md says.
const { interruptFlag } = await import('./signals.ts');
process.exitCode = interruptFlag.isSet() && code === EXIT.OK ? EXIT.INTERRUPTED : code;
