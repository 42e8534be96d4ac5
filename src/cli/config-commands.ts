// `mtl validate <config>` and `mtl config <config>` (print the fully resolved config).
import chalk from 'chalk';
import { loadConfig } from '../config/load.ts';
import { stringifyConfig } from '../config/print.ts';
import { printJson, say } from './output.ts';

export function validateCommand(file: string, options: { set?: string[]; json?: boolean }): void {
  const { config } = loadConfig(file, options.set ?? []);
  if (options.json) printJson({ valid: true, file, config });
  say(`${chalk.green('valid')}: ${file} (${config.trainer.mode}, model ${config.model.type}, dataset ${config.data.dataset})`);
}

export function configCommand(file: string, options: { set?: string[]; json?: boolean }): void {
  const { config } = loadConfig(file, options.set ?? []);
  if (options.json) printJson(config);
  else process.stdout.write(stringifyConfig(config));
}
