// Vega-Lite → Vega → SVG in Node, no browser and no canvas. vega is imported here only, lazily, so
// commands that draw nothing never load it. Ids inside each SVG are renamed after the chart, which
// makes them unique on the page and independent of vega's process-wide clip counter: same run,
// same bytes.
import { MtlError } from '../errors.ts';
import type { Chart } from './types.ts';

export interface RenderedChart extends Chart {
  svg: string;
  /** What Vega-Lite or Vega warned about while drawing (a spec this module got wrong). */
  warnings: string[];
}

export async function renderCharts(charts: Chart[]): Promise<RenderedChart[]> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const out: RenderedChart[] = [];
  // One at a time: each view is small and finalized before the next, so memory stays flat.
  for (const chart of charts) {
    const warnings: string[] = [];
    const logger = collectingLogger(warnings);
    let svg: string;
    try {
      const compiled = vl.compile(chart.spec, { logger }).spec;
      const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
      svg = await view.toSVG();
      view.finalize();
    } catch (err) {
      throw new MtlError(`could not draw chart '${chart.id}': ${(err as Error).message}`);
    }
    out.push({ ...chart, svg: scopeSvgIds(svg, `${chart.id}-`), warnings });
  }
  return out;
}

/**
 * Renames every id="…" in `svg` to prefix + its order of first appearance, and every reference to it
 * (url(#…), href="#…"), so two charts never share an id and a re-render gives the same text.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(m[1]!)) ids.set(m[1]!, `${prefix}${ids.size + 1}`);
  }
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (all, head: string, id: string) => (ids.has(id) ? `${head}${ids.get(id)}"` : all))
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : all))
    .replace(/(href=")#([^"]+)"/g, (all, head: string, id: string) => (ids.has(id) ? `${head}#${ids.get(id)}"` : all));
}

/** A vega/vega-lite logger that keeps warnings instead of printing them, and fails on errors. */
function collectingLogger(warnings: string[]) {
  let level = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      throw new Error(args.map(String).join(' '));
    },
    warn(...args: unknown[]) {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}
