// The report page: one HTML file with its CSS and every chart inline (SVG), no script, no font, no
// stylesheet or image to fetch. A Content-Security-Policy forbids any request, so a page that ever
// referred to something outside itself would show the gap instead of fetching it.
import type { RenderedChart } from './render.ts';
import type { ReportModel, Row, Section, Table } from './types.ts';

/** Nothing may load: no default source, inline styles only, data: images only (the empty favicon). */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#f6f6f7}
header,main,footer{max-width:1240px;margin:0 auto;padding:0 20px}
header{padding-top:20px}h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 2px}
.sub,.subtitle{color:#555;margin:0 0 8px}nav ol{margin:8px 0 16px;padding-left:20px;columns:3}
section{background:#fff;border:1px solid #e2e2e5;border-radius:8px;padding:16px 18px;margin:0 0 18px}
table{border-collapse:collapse;margin:8px 18px 12px 0;font-size:13px;display:inline-table;vertical-align:top}
caption{text-align:left;font-weight:600;padding:0 0 4px}
th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}table.kv td{text-align:left}table.kv td:first-child{color:#555}td.wrap{white-space:normal;word-break:break-all}
thead th{border-bottom:1px solid #bbb}
.notes li{margin:2px 0}.missing{color:#8a5a00}.missing li{margin:2px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:18px;align-items:start}
figure.wide{grid-column:1/-1}
figure.chart{margin:0;padding:8px;border:1px solid #eee;border-radius:6px;max-width:100%}
figure.chart figcaption{font-weight:600;margin:0 0 4px}
figure.chart svg{max-width:100%;height:auto;display:block}
p.caption{color:#555;font-size:12px;max-width:520px;margin:4px 0}
details{font-size:12px}pre{max-height:220px;overflow:auto;background:#fafafa;padding:6px;margin:4px 0}
footer{color:#777;font-size:12px;padding-bottom:24px}
@media print{body{background:#fff}section{break-inside:avoid;border:none}nav,details{display:none}}
`;

export interface PageInput {
  model: ReportModel;
  charts: Map<string, RenderedChart>;
  /** e.g. "mtl 0.1.0": no timestamp, so the same runs give the same bytes. */
  generator: string;
}

export function renderPage({ model, charts, generator }: PageInput): string {
  const nav = model.sections.map((s) => `<li><a href="#${s.id}">${esc(sectionHeading(s))}</a></li>`).join('');
  const sources = model.sources.map((s) => `${esc(s.id)} (${esc(s.kind)})`).join(', ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    `<title>${esc(model.title)}</title><style>${CSS}</style></head><body>`,
    `<header><h1>${esc(model.title)}</h1><p class="sub">${sources}</p><nav><ol>${nav}</ol></nav></header>`,
    '<main>',
    ...model.sections.map((s) => renderSection(s, charts)),
    '</main>',
    `<footer>Made by ${esc(generator)} <code>mtl report</code>. Every chart is inline SVG: the page needs no script and no network. ` +
      'Each chart’s data is under “data”.</footer>',
    '</body></html>',
    '',
  ].join('\n');
}

/** Subtitles longer than this stay out of the table of contents. */
const NAV_SUBTITLE = 48;

function sectionHeading(s: Section): string {
  return s.subtitle && s.subtitle.length <= NAV_SUBTITLE ? `${s.title}: ${s.subtitle}` : s.title;
}

function renderSection(s: Section, charts: Map<string, RenderedChart>): string {
  const parts = [`<section id="${s.id}"><h2>${esc(s.title)}</h2>`];
  if (s.subtitle) parts.push(`<p class="subtitle">${esc(s.subtitle)}</p>`);
  if (s.notes.length > 0) parts.push(`<ul class="notes">${s.notes.map((n) => `<li>${inline(n)}</li>`).join('')}</ul>`);
  if (s.missing.length > 0) {
    parts.push(`<ul class="missing">${s.missing.map((n) => `<li>${inline(n)}</li>`).join('')}</ul>`);
  }
  parts.push(...s.tables.map(renderTable));
  if (s.charts.length > 0) {
    parts.push('<div class="charts">');
    for (const c of s.charts) {
      const rendered = charts.get(c.id);
      if (rendered) parts.push(renderFigure(rendered));
    }
    parts.push('</div>');
  }
  parts.push('</section>');
  return parts.join('\n');
}

function renderTable(t: Table): string {
  const head = t.header.some((h) => h !== '')
    ? `<thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`
    : '';
  const body = t.rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${i > 0 && c.length > 60 ? ' class="wrap"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('');
  const kv = head === '' ? ' class="kv"' : '';
  return `<table${kv}><caption>${esc(t.title)}</caption>${head}<tbody>${body}</tbody></table>`;
}

/** Charts wider than this take a whole row (parallel coordinates, many classes). */
const WIDE_SVG = 640;

function renderFigure(c: RenderedChart): string {
  const width = Number(/^<svg[^>]*\swidth="(\d+)"/.exec(c.svg)?.[1] ?? 0);
  const wide = width > WIDE_SVG ? ' wide' : '';
  return [
    `<figure class="chart${wide}" id="chart-${c.id}" data-chart="${c.id}" data-family="${c.family}">`,
    `<figcaption>${esc(c.title)}</figcaption>`,
    c.svg,
    `<p class="caption">${inline(c.caption)}</p>`,
    `<details><summary>data (${c.rows.length} rows, CSV)</summary><pre>${esc(toCsv(c.rows))}</pre></details>`,
    '</figure>',
  ].join('\n');
}

/** RFC 4180 CSV: the columns of the first row, then any others in order of appearance. */
export function toCsv(rows: Row[]): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n');
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Escaped text where `code` spans become <code>. */
function inline(s: string): string {
  return esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}
