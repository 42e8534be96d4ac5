// Registers `mtl sweep …` and `mtl worker`; each action imports its module only when it runs, so
// these commands never load TF.js in the coordinating process (trials train in child processes).
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { collect, nonNegativeNumber, oneOf, positiveInt } from './options.ts';

const QUEUE_HELP = 'Redis URL of the BullMQ queue, e.g. redis://127.0.0.1:6379/0';

export function registerSweepCommands(program: Command, runsDir: () => Option): void {
  const sweep = program
    .command('sweep')
    .description('run a grid or random search over config keys × seeds, locally or on a BullMQ/Redis queue')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl sweep configs/mnist-mlp.yaml --param trainer.optimizer.lr=0.001,0.003 --seeds 2 -j 2\n' +
        '  $ mtl sweep run --help        every option of a sweep\n  $ mtl sweep status latest',
    );
  sweep
    .command('run', { isDefault: true })
    .description('run a sweep (the default: `mtl sweep <file>` is `mtl sweep run <file>`)')
    .argument('<file>', 'a sweep file (with `sweep:` at the top) or an experiment config plus --param')
    .option(
      '--param <key=values>',
      'a swept key: key=v1,v2,… (YAML values) or key=MIN..MAX[:log][:int][:STEPS]',
      collect,
    )
    .option('--set <key=value>', 'a fixed override of the base config for every trial (repeatable)', collect)
    .option('--seeds <n>', 'training replicates per point: the config seed, +1, +2 …', positiveInt)
    .addOption(new Option('--method <m>', 'grid | random').argParser(oneOf(['grid', 'random'] as const)))
    .option('--samples <n>', 'random: number of points', positiveInt)
    .option('--metric <m>', 'validation metric that picks the best point (default val.accuracy)')
    .addOption(
      new Option('--prune <rule>', 'early termination: asha (eta 3) | median').argParser(
        oneOf(['asha', 'median'] as const),
      ),
    )
    .option('--attempts <n>', 'attempts per trial (crashes are retried; config/data errors are not)', positiveInt)
    .option('--epochs <n>', 'set trainer.epochs for every trial', positiveInt)
    .option('--limit <n>', 'set data.limit for every trial (train on a seeded sample)', positiveInt)
    .option('--name <name>', 'sweep run name (default <config>-sweep or the sweep file name)')
    .option('-j, --jobs <n>', 'trials at once on this machine (each gets cores ÷ N kernel threads)', positiveInt, 1)
    .option('--queue <url>', `enqueue the trials instead and return at once (${QUEUE_HELP})`)
    .option('--queue-name <name>', 'BullMQ queue name', 'mtl-trials')
    .option('--dry-run', 'print the plan (every trial) and exit without running anything')
    .addOption(runsDir())
    .option('--json', 'print the sweep summary JSON on stdout (human text goes to stderr)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ mtl sweep configs/mnist-mlp.yaml --param trainer.optimizer.lr=0.001,0.003 --param trainer.batchSize=64,128 --seeds 2 -j 2\n' +
        '  $ mtl sweep configs/mnist-mlp.yaml --param trainer.optimizer.lr=1e-4..1e-2:log --method random --samples 20 --prune asha\n' +
        '  $ mtl sweep sweeps/mnist-lr.yaml -j 2\n' +
        '  $ mtl sweep sweeps/mnist-lr.yaml --queue redis://127.0.0.1:6379/0 --json   # then: mtl worker --queue … on each machine',
    )
    .action(async (file: string, opts) => {
      // A local sweep starts its trial hosts first: they load Node, TF.js and the training code while
      // this process loads its own modules, reads the sweep and plans it. At most one per CPU: more
      // could not load at once anyway, and the other lanes start theirs with their first trial.
      const { HostPool, threadsPerTrial } = await import('../sweep/hosts.ts');
      const local = !opts.queue && !opts.dryRun && HostPool.enabled();
      const early = Math.min(opts.jobs, availableParallelism());
      const hosts = local ? new HostPool(threadsPerTrial(opts.jobs)).prestart(early) : null;
      try {
        const { sweepRunCommand } = await import('./sweep.ts');
        await sweepRunCommand(file, opts, process.argv.slice(2), hosts);
      } finally {
        hosts?.closeAll();
      }
    });
  const refArg = (c: Command): Command =>
    c
      .argument('<sweep>', 'sweep run id, unique prefix, path or "latest"')
      .addOption(runsDir())
      .option('--queue <url>', `${QUEUE_HELP} (default: the one the sweep was enqueued on)`)
      .option('--queue-name <name>', 'BullMQ queue name (default: the sweep’s)')
      .option('--json', 'print the sweep summary JSON on stdout');
  refArg(sweep.command('status').description('where a sweep stands (collects finished trials from the queue)')).action(
    async (ref: string, opts) => (await import('./sweep.ts')).sweepStatusCommand(ref, opts),
  );
  refArg(sweep.command('wait').description('block until a queued sweep ends, then print its summary'))
    .option('--timeout <seconds>', 'give up after this long (exit 1)', nonNegativeNumber)
    .action(async (ref: string, opts) => (await import('./sweep.ts')).sweepWaitCommand(ref, opts));
  refArg(sweep.command('resume').description('run or re-enqueue only the trials a sweep has not finished'))
    .option('-j, --jobs <n>', 'local sweeps: trials at once', positiveInt, 1)
    .action(async (ref: string, opts) => (await import('./sweep.ts')).sweepResumeCommand(ref, opts));
  refArg(
    sweep.command('cancel').description('cancel a queued sweep: waiting trials are removed, running ones stop'),
  ).action(async (ref: string, opts) => (await import('./sweep.ts')).sweepCancelCommand(ref, opts));

  program
    .command('worker')
    .description('take sweep trials from a BullMQ/Redis queue and run them (one child process each)')
    .requiredOption('--queue <url>', QUEUE_HELP)
    .option('--queue-name <name>', 'BullMQ queue name', 'mtl-trials')
    .addOption(runsDir())
    .option('--concurrency <n>', 'trials at once on this machine', positiveInt, 1)
    .option('--lock-seconds <s>', 'a silent worker keeps its trial this long before another takes it', positiveInt, 30)
    .addOption(
      new Option('--reconnect-seconds <s>', 'recreate the worker when Redis is not back by then')
        .argParser(positiveInt)
        .default(30)
        .hideHelp(),
    )
    .option('--json', 'print one JSON line per event on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mtl worker --queue redis://10.0.0.5:6379/0\n  $ mtl worker --queue redis://10.0.0.5:6379/0 --runs-dir /mnt/shared/runs --concurrency 2\n' +
        '\nSIGTERM or Ctrl-C puts the running trial back on the queue and exits; a second one exits at once.',
    )
    .action(async (opts) => (await import('./worker.ts')).workerCommand(opts));
}
