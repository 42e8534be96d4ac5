// Reports of real runs (a training run, a transfer, a multi-task run and a sweep, all small), `mtl runs compare`
// of two runs that differ in one key, `mtl runs show`, and the pages in a real browser: Debian's
// chromium driven by playwright-core, JavaScript off, every request blocked and recorded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { ROOT, tempDir } from '../e2e/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

const runsDir = tempDir('mtl-report-e2e-');

/** The real CLI, with room for a report's --json (every chart's rows: a few MB). */
function mtl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'mtl'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
after(() => rmSync(runsDir, { recursive: true, force: true }));

interface ReportJson {
  output: string;
  sections: Array<{ charts: Array<{ id: string }> }>;
}

const runs: Record<'train' | 'trainLr' | 'transfer' | 'multitask', string> = {
  train: '',
  trainLr: '',
  transfer: '',
  multitask: '',
};
const reports: Record<string, ReportJson> = {};

function run(args: string[]): { runId: string } {
  const r = mtl([...args, '--runs-dir', runsDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { runId: string };
}

function report(ref: string, extra: string[] = []): ReportJson {
  const r = mtl(['report', ref, '--runs-dir', runsDir, '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /report: .*\.html/);
  return JSON.parse(r.stdout) as ReportJson;
}

const chartIds = (j: ReportJson): string[] => j.sections.flatMap((s) => s.charts.map((c) => c.id));

before(() => {
  runs.train = run(['train', 'configs/mnist-mlp.yaml', '--epochs', '2', '--limit', '1000']).runId;
  runs.trainLr = run([
    'train',
    'configs/mnist-mlp.yaml',
    '--epochs',
    '2',
    '--limit',
    '1000',
    '--set',
    'trainer.optimizer.lr=0.003',
  ]).runId;
  runs.transfer = run([
    'transfer',
    '--from',
    'mnist',
    '--to',
    'fashion',
    '--strategy',
    'full',
    '--strategy',
    'reinit',
    '--limit',
    '1000',
    '--epochs',
    '1',
    '--source-epochs',
    '1',
  ]).runId;
  runs.multitask = run(['train', 'configs/multimnist-hps.yaml', '--epochs', '1', '--limit', '1000']).runId;
  reports.train = report(runs.train);
  reports.transfer = report(runs.transfer);
  reports.multitask = report(runs.multitask);
  // Learning rates from high to low: the later trials trail the first at ASHA's first rung and are stopped.
  const sweep = run([
    'sweep',
    'configs/mnist-mlp.yaml',
    '--param',
    'trainer.optimizer.lr=0.003,0.001,0.0003',
    '--set',
    'trainer.epochs=3',
    '--set',
    'data.limit=1000',
    '--prune',
    'asha',
  ]).runId;
  reports.sweep = report(sweep);
});

describe('mtl report on real runs', () => {
  it('writes report.html into the run folder, with curves, confusion matrices, per-class metrics and ROC', () => {
    assert.equal(reports.train!.output, join(runsDir, runs.train, 'report.html'));
    const ids = chartIds(reports.train!);
    for (const part of [
      'curves-loss',
      'curves-accuracy',
      'test-confusion',
      'test-confusion-normalised',
      'test-per-class',
      'test-roc',
    ]) {
      assert.ok(
        ids.some((id) => id.endsWith(part)),
        `${part} in ${ids.join(', ')}`,
      );
    }
    const testReport = JSON.parse(readFileSync(join(runsDir, runs.train, 'test-report.json'), 'utf8'));
    assert.equal(testReport.detail.roc.length, 10);
  });

  it('draws the transfer gain, the multi-task tasks and a real sweep with its pruning', () => {
    assert.ok(chartIds(reports.transfer!).some((id) => id.endsWith('strategy-gain')));
    assert.ok(chartIds(reports.multitask!).some((id) => id.endsWith('task-accuracy')));
    const sweep = chartIds(reports.sweep!);
    for (const part of ['param-trainer-optimizer-lr', 'parallel', 'trial-curves', 'pruning']) {
      assert.ok(
        sweep.some((id) => id.endsWith(part)),
        `${part} in ${sweep.join(', ')}`,
      );
    }
  });

  it('several runs go to -o, with a comparison section', () => {
    const out = join(runsDir, 'both.html');
    const r = mtl(['report', runs.train, runs.trainLr, '--runs-dir', runsDir, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /<section id="compare">/);
    assert.match(html, /trainer\.optimizer\.lr/);
  });

  it('a run without test-report.json says how to get its classes; mtl eval adds them, ROC included', () => {
    rmSync(join(runsDir, runs.trainLr, 'test-report.json'));
    const out = join(runsDir, 'old.html');
    const before = report(runs.trainLr, ['-o', out]);
    assert.ok(!chartIds(before).some((id) => id.includes('confusion')));
    assert.match(readFileSync(out, 'utf8'), new RegExp(`mtl eval ${runs.trainLr}`));
    const ev = mtl(['eval', runs.trainLr, '--runs-dir', runsDir]);
    assert.equal(ev.code, 0, ev.stderr);
    const file = /written: (\S+)/.exec(ev.stderr)![1]!;
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(doc.roc.length, 10);
    assert.deepEqual(doc.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const after = chartIds(report(runs.trainLr, ['-o', out]));
    for (const part of ['test-confusion', 'test-per-class', 'test-roc'])
      assert.ok(
        after.some((id) => id.endsWith(part)),
        part,
      );
  });

  it('an unknown run is exit 3 with the nearest ids', () => {
    const r = mtl(['report', 'no-such-run', '--runs-dir', runsDir]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no run matches 'no-such-run'/);
  });
});

describe('mtl runs compare / show', () => {
  it('compare shows the one differing key and both runs’ metrics', () => {
    // --json: the document on stdout, the table for people still on stderr.
    const r = mtl(['runs', 'compare', runs.train, runs.trainLr, '--runs-dir', runsDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /config keys that differ/);
    assert.match(r.stderr, /trainer\.optimizer\.lr\s+0\.001\s+0\.003\s+\+0\.002/);
    const summaries = [runs.train, runs.trainLr].map((id) =>
      JSON.parse(readFileSync(join(runsDir, id, 'summary.json'), 'utf8')),
    );
    const accuracy = (s: { test: { accuracy: number } }) => `${(s.test.accuracy * 100).toFixed(2)}%`;
    assert.match(r.stderr, new RegExp(`test accuracy\\s+${accuracy(summaries[0])}\\s+${accuracy(summaries[1])}`));
    const doc = JSON.parse(r.stdout) as { config: Array<{ key: string; values: unknown[] }> };
    assert.deepEqual(doc.config, [
      { key: 'trainer.optimizer.lr', format: 'text', values: [0.001, 0.003], differs: true },
    ]);
  });

  it('compare needs two runs (exit 2)', () => {
    assert.equal(mtl(['runs', 'compare', runs.train, '--runs-dir', runsDir]).code, 2);
  });

  it('show is readable; --json keeps the document', () => {
    const r = mtl(['runs', 'show', runs.train, '--runs-dir', runsDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /best\s+epoch \d of 2 \(selected on val\.accuracy\)/);
    assert.match(r.stderr, /validation \(best epoch \d\)/);
    assert.match(r.stderr, /best\s+\S+checkpoints\/best\s+\(epoch \d/);
    const j = JSON.parse(mtl(['runs', 'show', runs.train, '--runs-dir', runsDir, '--json']).stdout);
    assert.equal(j.id, runs.train);
    assert.equal(j.summary.runId, runs.train);
  });
});

describe('the pages in Chromium', () => {
  let browser: Browser | null = null;
  const skip = existsSync(CHROMIUM) ? null : `no ${CHROMIUM} (apt-get install chromium); under CI=true this fails`;
  before(async () => {
    if (skip && process.env.CI === 'true') assert.fail(`CI=true but ${skip}`);
    if (!skip) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => browser?.close());

  const minimum = { train: 3, transfer: 2, multitask: 2, sweep: 2 };
  for (const [name, least] of Object.entries(minimum)) {
    it(`${name}: every chart drawn, no console error, no request, a screenshot that is not blank`, {
      skip: skip ?? false,
    }, async () => {
      const expected = chartIds(reports[name]!);
      assert.ok(expected.length >= least, `${expected.length} charts`);
      const seen = await openPage(browser!, reports[name]!.output);
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.requests, [], 'requests besides the page itself');
      assert.deepEqual(
        seen.charts.map((c) => c.id),
        expected,
      );
      for (const c of seen.charts)
        assert.ok(c.marks > 0 && c.area > 0, `${c.id}: ${c.marks} marks, drawn area ${c.area}`);
      assert.ok(seen.ink > 0.02, `non-white share of the screenshot ${seen.ink}`);
      assert.ok(seen.colours > 20, `${seen.colours} distinct colours`);
    });
  }
});

interface PageSeen {
  errors: string[];
  requests: string[];
  charts: Array<{ id: string; marks: number; area: number }>;
  ink: number;
  colours: number;
}

/** Opens a report from disk with JavaScript off and every request but the page itself blocked. */
async function openPage(browser: Browser, file: string): Promise<PageSeen> {
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const target = route.request().url();
    if (target === url) return route.continue();
    requests.push(target);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => r.url() !== url && requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  const charts = await page.$$eval('figure.chart', (figures) =>
    figures.map((f) => {
      const marks = [...f.querySelectorAll('svg g.role-mark > *')] as SVGGraphicsElement[];
      const area = marks.reduce((a, m) => {
        const b = m.getBBox();
        return a + b.width + b.height;
      }, 0);
      return { id: f.getAttribute('data-chart') ?? '', marks: marks.length, area };
    }),
  );
  const shot = await page.screenshot({ fullPage: true });
  await context.close();
  return { errors, requests: [...new Set(requests)], charts, ...(await inkOf(browser, shot)) };
}

/** Share of non-white pixels and number of distinct colours, decoded by the browser itself. */
async function inkOf(browser: Browser, png: Buffer): Promise<{ ink: number; colours: number }> {
  const page = await browser.newPage();
  await page.setContent('<canvas></canvas>');
  const result = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.querySelector('canvas')!;
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i]! < 235 || data[i + 1]! < 235 || data[i + 2]! < 235) ink++;
      if (colours.size < 5000) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    }
    return { ink: ink / (data.length / 4), colours: colours.size };
  }, png.toString('base64'));
  await page.close();
  return result;
}
