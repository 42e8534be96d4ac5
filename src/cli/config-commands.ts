// `mtl validate <config>` and `mtl config <config>` (print the fully resolved config).
import chalk from 'chalk';
import { describeConfig } from '../config/defaults.ts';
import { loadConfig } from '../config/load.ts';
import { stringifyConfig } from '../config/print.ts';
import { UsageError } from '../errors.ts';
import { printJson, say } from './output.ts';

export function validateCommand(file: string, options: { set?: string[]; json?: boolean }): void {
  const { config } = loadConfig(file, options.set ?? []);
  if (options.json) printJson({ valid: true, file, config });
  say(
    `${chalk.green('valid')}: ${file} (${config.trainer.mode}, model ${config.model.type}, dataset ${config.data.dataset})`,
  );
}

export function configCommand(
  file: string | undefined,
  options: { set?: string[]; json?: boolean; reference?: boolean },
): void {
  if (options.reference) {
    printReference(options.json);
    return;
  }
  if (!file) throw new UsageError("mtl config needs a config file (or --reference for every key's documentation)");
  const { config } = loadConfig(file, options.set ?? []);
  if (options.json) printJson(config);
  else process.stdout.write(stringifyConfig(config));
}

/** Every config key with its type, default and meaning, read off the schema itself (markdown). */
function printReference(json?: boolean): void {
  const fields = describeConfig();
  if (json) {
    printJson(fields);
    return;
  }
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = ['| key | type | default | meaning |', '|---|---|---|---|'];
  for (const f of fields) {
    const def = f.default === undefined ? '' : `\`${JSON.stringify(f.default)}\``;
    lines.push(`| \`${f.path}\` | ${cell(f.type)} | ${def} | ${cell(f.description)}${f.when ? ` (${f.when})` : ''} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
