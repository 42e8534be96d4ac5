// csv:<file>: parsing (BOM, CRLF, quotes, delimiter), column typing and encoding, class order, the
// normalization fitted on training rows (hand-computed), missing values, and bad data in one pass.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sortClasses } from '../../src/data/csv/cells.ts';
import { loadCsvDataset, loadTable } from '../../src/data/csv/load.ts';
import { readCsv } from '../../src/data/csv/read.ts';
import { loadTaskSource, resolveLabels } from '../../src/data/multi-labels.ts';
import { applyPreprocess, fitPreprocess } from '../../src/data/normalize.ts';
import { DataError } from '../../src/errors.ts';
import { tempDir } from './helpers.ts';
import { csvLine, TABLE_HEADER, tableRows, writeCsv } from './own-fixtures.ts';

const root = tempDir('csv');
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const file = (text: string): string => {
  const f = path.join(root, `t${n++}.csv`);
  fs.writeFileSync(f, text);
  return f;
};

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof DataError, String(err));
    assert.equal(err.exitCode, 3);
    return err.problems.map((p) => [p.row !== undefined ? `row ${p.row}` : '', p.column ?? '', p.message].join('|'));
  }
  throw new Error('expected a DataError');
}

describe('reading', () => {
  it('handles a BOM, CRLF line ends, quoted commas and doubled quotes', () => {
    const f = path.join(root, 'fixture.csv');
    writeCsv(f, TABLE_HEADER, tableRows(5));
    const raw = fs.readFileSync(f);
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the fixture starts with a BOM');
    assert.ok(raw.includes('\r\n"red, dark"') || raw.includes(',"red, dark",') || raw.includes('""light""'));
    const t = readCsv(f);
    assert.deepEqual(t.header, TABLE_HEADER, 'the BOM is not part of the first column name');
    assert.deepEqual(t.rows, tableRows(5));
  });

  it('reads another delimiter', () => {
    const t = readCsv(file('a;b\r\n"1;5";2\r\n'), ';');
    assert.deepEqual(t.rows, [['1;5', '2']]);
  });

  it('sorts classes numerically when all are numbers, else by bytes', () => {
    assert.deepEqual(sortClasses(['10', '2', '1', '2']), ['1', '2', '10']);
    assert.deepEqual(sortClasses(['b', 'B', 'a', 'é']), ['B', 'a', 'b', 'é']);
  });
});

describe('encoding', () => {
  const text = ['x,colour,y', '1,red,no', '3,blue,yes', '5,red,no', '7,green,yes', '9,blue,no'].join('\n');

  it('standardizes numbers and one-hots text with statistics of the training rows (hand-computed)', () => {
    const ds = loadCsvDataset(file(text), 'csv:t', { labels: ['y'], test: 0.4 });
    assert.deepEqual(ds.classNames, ['no', 'yes']);
    assert.equal(ds.train.n + ds.test.n, 5);
    const t = ds.input?.kind === 'table' ? ds.input : assert.fail('a table');
    assert.equal(t.columns[0]!.type, 'numeric');
    assert.equal(t.columns[1]!.type, 'category');
    // One-hot categories come from the training rows only (x identifies a row), in byte order.
    const colourOf: Record<number, string> = { 1: 'red', 3: 'blue', 5: 'red', 7: 'green', 9: 'blue' };
    const width = ds.inputShape[0]!;
    const trainX = Array.from({ length: ds.train.n }, (_, i) => ds.train.x[i * width]!);
    const expected = [...new Set(trainX.map((x) => colourOf[x]!))].sort();
    assert.deepEqual(t.columns[1], { name: 'colour', type: 'category', categories: expected });
    assert.equal(width, 1 + expected.length);
    const pre = fitPreprocess('standardize', ds.train, ds.inputShape, ds.input);
    const xs = Array.from({ length: ds.train.n }, (_, i) => ds.train.x[i * ds.inputShape[0]!]!);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    const step = pre.steps.find((s) => s.op === 'standardize');
    assert.ok(step && step.op === 'standardize');
    assert.ok(Math.abs(step.mean[0]! - mean) < 1e-9 && Math.abs(step.std[0]! - std) < 1e-9);
    assert.deepEqual(step.mean.slice(1), new Array(step.mean.length - 1).fill(0), 'one-hot features stay 0/1');
    const out = applyPreprocess(pre, ds.train.x, ds.train.n);
    assert.ok(Math.abs(out[0]! - (xs[0]! - mean) / std) < 1e-6);
  });

  it('min-max scales numbers under scale01 and fills missing numbers with the training mean', () => {
    const ds = loadCsvDataset(file('x,y\n0,a\n,b\n10,a\n4,b\n'), 'csv:t', {
      labels: ['y'],
      test: 0.01,
      missing: 'mean',
    });
    const pre = fitPreprocess('scale01', ds.train, ds.inputShape, ds.input);
    assert.deepEqual(pre.steps[0], { op: 'fillMissing', values: [14 / 3] });
    const out = Array.from(applyPreprocess(pre, ds.train.x, ds.train.n));
    assert.deepEqual(
      out.map((v) => Math.round(v * 1000) / 1000),
      [0, 0.467, 1, 0.4],
    );
  });

  it('reads a test file with the training layout; an unseen category becomes no category', () => {
    const train = file('x,c,y\n1,p,a\n2,q,b\n3,p,a\n4,q,b\n');
    const test = file('x,c,y\n5,r,a\n6,p,b\n');
    const t = loadTable(train, { labels: ['y'], test });
    assert.equal(t.test.n, 2);
    assert.deepEqual(Array.from(t.test.x), [5, 0, 0, 6, 1, 0]);
    assert.deepEqual(Array.from(t.test.labels[0]!), [0, 1]);
  });

  it('offers every label column to multi-task runs, a missing label as −1', async () => {
    const f = file('x,k,b\n1,a,yes\n2,b,\n3,a,no\n4,b,yes\n5,a,no\n');
    const source = await loadTaskSource(`csv:${f}`, { own: { labels: ['k', 'b'], test: 0.01 } });
    const col = resolveLabels(source, 'b', 'big');
    assert.deepEqual(col.classNames, ['no', 'yes']);
    const decoded = Array.from(source.raw.train.y, (row) => col.decode(row));
    assert.deepEqual(decoded, [1, -1, 0, 1, 0]);
    assert.throws(() => resolveLabels(source, 'kind', 't'), /has no 'kind' labels/);
  });
});

describe('bad data', () => {
  it('lists a ragged row, a non-number in a numeric column, a missing value and an unknown column in one pass', () => {
    const f = file(
      ['a,b,c,y', '1,2,x,p', '1,2,y,q', '1,abc,x,p', '1,2', '3,,y,q', '4,5,x,p', '6,7,y,q', '8,9,x,p'].join('\r\n'),
    );
    const problems = problemsOf(() =>
      loadCsvDataset(f, 'csv:t', { labels: ['y'], features: ['a', 'b', 'c', 'zz'], test: 0.01 }),
    );
    assert.deepEqual(problems.sort(), [
      "row 3|b|'abc' is not a number (a category? list the column under data.categorical)",
      'row 4||2 fields, the header has 4',
      'row 5|b|missing value (data.missing: mean fills it from the training rows)',
      "||unknown column 'zz' (columns: a, b, c, y)",
    ]);
  });

  it('refuses a single class and suggests a near column name', () => {
    assert.deepEqual(
      problemsOf(() => loadCsvDataset(file('x,y\n1,a\n2,a\n'), 'csv:t', { labels: ['y'] })),
      ["|y|label column has a single class ('a'): classification needs at least 2"],
    );
    const p = problemsOf(() => loadCsvDataset(file('x,species\n1,a\n2,b\n'), 'csv:t', { labels: ['specie'] }));
    assert.match(p[0]!, /did you mean 'species'\?/);
  });

  it('drops rows without a label from a single-task table and counts them', () => {
    const ds = loadCsvDataset(file('x,y\n1,a\n2,\n3,b\n4,a\n5,b\n'), 'csv:t', { labels: ['y'], test: 0.01 });
    assert.equal(ds.train.n + ds.test.n, 4);
    assert.equal(ds.source?.skippedRecords, 1);
  });

  it('quotes what it writes in the fixtures the same way csv-parse reads it back', () => {
    const fields = ['a,b', 'say "hi"', 'plain'];
    assert.deepEqual(readCsv(file(`h1,h2,h3\n${csvLine(fields)}\n`)).rows[0], fields);
  });
});
