// Preloaded into each benchmark child (node --import): on exit, writes the process's peak resident set
// size to $MTL_BENCH_PROBE_FILE, so `mtl bench` can report the peak RSS of a whole command.
import { writeFileSync } from 'node:fs';

const file = process.env.MTL_BENCH_PROBE_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({ peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  });
}
