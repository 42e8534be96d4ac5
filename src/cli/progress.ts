// Training progress: a cli-progress bar per epoch on a TTY (batches, loss, accuracy, samples/s, ETA),
// otherwise one plain line per epoch, so logs and CI stay readable.
import chalk from 'chalk';
import cliProgress from 'cli-progress';
import type { BatchInfo, EpochRecord, LoopCallbacks } from '../train/loop.ts';
import { fmt, say } from './output.ts';

export interface ProgressOptions {
  /** Prefix for each line, e.g. a strategy name in a transfer run. */
  label?: string;
  tty?: boolean;
  /** The line printed after each epoch (default formatEpochLine; multi-task runs list every task). */
  format?: (record: EpochRecord, epochs: number, improved: boolean) => string;
}

export function createProgress(options: ProgressOptions = {}): LoopCallbacks {
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const prefix = options.label ? `${chalk.cyan(options.label)} ` : '';
  let bar: cliProgress.SingleBar | null = null;
  let epochs = 0;
  return {
    onEpochBegin(epoch, total, steps) {
      epochs = total;
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          format: `${prefix}epoch ${epoch}/${total} {bar} {value}/{total} | loss {loss} acc {acc} | {sps} samples/s | ETA {eta_formatted}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(steps, 0, { loss: '—', acc: '—', sps: '—' });
    },
    onBatchEnd(info: BatchInfo) {
      bar?.update(info.step, {
        loss: fmt(info.loss),
        acc: fmt(info.accuracy),
        sps: Math.round(info.samples / Math.max(info.elapsed, 1e-9)).toString(),
      });
    },
    onEpochEnd(record: EpochRecord, improved: boolean) {
      bar?.stop();
      bar = null;
      say(prefix + (options.format ?? formatEpochLine)(record, epochs, improved));
    },
  };
}

export function formatEpochLine(r: EpochRecord, epochs: number, improved: boolean): string {
  const val = r.val as { loss?: number; accuracy?: number } | null;
  const parts = [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${fmt(r.train.loss)}`,
    r.train.accuracy !== undefined ? `acc ${fmt(r.train.accuracy)}` : '',
    val ? `val_loss ${fmt(val.loss)}` : '',
    val?.accuracy !== undefined ? `val_acc ${fmt(val.accuracy)}` : '',
    `${r.seconds.toFixed(1)}s`,
    `lr ${r.lr.toExponential(1)}`,
  ].filter(Boolean);
  return parts.join('  ') + (improved && val ? chalk.green('  *best') : '');
}
