// `mtl report <run>…`: draw one or several runs into a self-contained HTML page and say where it is.
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import chalk from 'chalk';
import { InputError } from '../errors.ts';
import { buildReport } from '../report/build.ts';
import { resolveReportDir } from '../report/load.ts';
import { writeFileAtomic } from '../runs/atomic.ts';
import { printJson, say } from './output.ts';

export interface ReportCliOptions {
  runsDir: string;
  /** Output file; default report.html in the run folder (one run) or the current folder (several). */
  output?: string;
  title?: string;
  json?: boolean;
}

export async function reportCommand(refs: string[], o: ReportCliOptions): Promise<void> {
  const output = await outputPath(refs, o);
  const report = await buildReport(o.runsDir, refs, o.title);
  await mkdir(dirname(output), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`cannot create the folder of '${output}': ${err.message}`);
  });
  await writeFileAtomic(output, report.html).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`cannot write '${output}': ${err.message}`);
  });
  const charts = report.charts.length;
  const missing = report.model.sections.flatMap((s) => s.missing);
  if (o.json) {
    printJson({
      output,
      bytes: Buffer.byteLength(report.html),
      title: report.model.title,
      sources: report.model.sources,
      // Each chart's rows once: its spec names them (data: {name: "rows"}) instead of repeating them.
      sections: report.model.sections.map((s) => ({
        ...s,
        charts: s.charts.map((c) => ({ ...c, spec: { ...c.spec, data: { name: 'rows' } } })),
      })),
    });
  }
  const warnings = report.charts.flatMap((c) => c.warnings.map((w) => `${c.id}: ${w}`));
  for (const w of warnings) say(chalk.yellow(`warning: ${w}`));
  say(
    `${charts} charts in ${report.model.sections.length} sections, ${(Buffer.byteLength(report.html) / 1024).toFixed(0)} KB`,
  );
  for (const m of missing) say(chalk.dim(`  not drawn: ${m.replace(/`/g, '')}`));
  say(`report: ${output}`);
}

async function outputPath(refs: string[], o: ReportCliOptions): Promise<string> {
  if (o.output) return resolve(o.output);
  if (refs.length === 1) return join(await resolveReportDir(o.runsDir, refs[0]!), 'report.html');
  return resolve('report.html');
}
