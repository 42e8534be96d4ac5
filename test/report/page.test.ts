// The page drawn from hand-written run folders of every kind: Vega-Lite renders each chart to SVG in
// this Node without a warning, the same runs give the same bytes, ids never collide, and the page
// refers to nothing outside itself.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltReport, buildReport } from '../../src/report/build.ts';
import { toCsv } from '../../src/report/html.ts';
import { scopeSvgIds } from '../../src/report/render.ts';
import { writeMultitaskRun, writeSweep, writeTrainingRun, writeTransferRun } from './fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'mtl-report-page-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs: string[] = [];
let first: BuiltReport;

before(async () => {
  dirs = [
    writeTrainingRun(root, 'toy-20260101-000000-aaaa'),
    writeTransferRun(root, 'tr-20260101-000000-aaaa'),
    writeMultitaskRun(root, 'mt-20260101-000000-aaaa', { gradients: true, baselines: true }),
    writeSweep(root, 'sw-20260101-000000-aaaa'),
    writeTrainingRun(root, 'toy-20260101-000000-bbbb', { lr: 0.01 }),
  ];
  first = await buildReport(root, dirs);
});

describe('rendering', () => {
  it('vega-lite installed here declares an engines range this Node satisfies', () => {
    const file = join(import.meta.dirname, '..', '..', 'node_modules', 'vega-lite', 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { engines: { node: string } };
    const min = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
    assert.ok(Number(process.versions.node.split('.')[0]) >= min, `vega-lite wants node ${pkg.engines.node}`);
  });

  it('draws every chart of every kind of run to SVG with marks and without a warning', () => {
    assert.ok(first.charts.length >= 30, `${first.charts.length} charts`);
    for (const c of first.charts) {
      assert.deepEqual(c.warnings, [], c.id);
      assert.match(c.svg, /^<svg [^>]*width="\d+" height="\d+"/, c.id);
      assert.match(c.svg, /role-mark/, `${c.id} has marks`);
    }
  });

  it('gives the same bytes for the same runs', async () => {
    const again = await buildReport(root, dirs);
    assert.equal(again.html, first.html);
  });

  it('keeps every id on the page unique (vega numbers its clip paths per process)', () => {
    const ids = [...first.html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(dupes, []);
    for (const m of first.html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(m[1]!), `url(#${m[1]}) resolves`);
  });

  it('scopeSvgIds renames ids and their references in order of appearance', () => {
    const svg =
      '<svg><clipPath id="clip7"></clipPath><g clip-path="url(#clip7)"></g><use href="#clip7"/><g id="x"></g></svg>';
    assert.equal(
      scopeSvgIds(svg, 'c-'),
      '<svg><clipPath id="c-1"></clipPath><g clip-path="url(#c-1)"></g><use href="#c-1"/><g id="c-2"></g></svg>',
    );
  });
});

describe('the page', () => {
  it('needs nothing outside itself: no script, no stylesheet, font or image to load, a CSP that forbids it', () => {
    const html = first.html;
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<link[^>]+stylesheet/i);
    assert.doesNotMatch(html, /@import|@font-face/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    // Only in-page anchors and data: URLs may be referred to; SVG namespace URIs are names, not requests.
    const refs = [...html.matchAll(/\s(?:src|href|xlink:href)="([^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(
      refs.filter((r) => !r.startsWith('#') && !r.startsWith('data:')),
      [],
    );
    assert.doesNotMatch(html, /url\((?!#)/);
  });

  it('has a figure for every chart and a section per part of every run', () => {
    const figures = [...first.html.matchAll(/<figure class="chart[^"]*" id="chart-([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(
      figures,
      first.charts.map((c) => c.id),
    );
    assert.match(first.html, /<section id="compare">/);
    for (const title of ['Transfer summary', 'Multi-task summary', 'Sweep results', 'Test split, class by class']) {
      assert.ok(first.html.includes(`<h2>${title}`), title);
    }
  });

  it('exports each chart’s data as CSV (RFC 4180 quoting)', () => {
    assert.equal(
      toCsv([
        { a: 1, b: 'x,y' },
        { a: null, c: 'say "hi"' },
      ]),
      'a,b,c\n1,"x,y",\n,,"say ""hi"""',
    );
  });
});
