// Your own data through the real CLI: an image folder (PNG + JPEG) and a two-label CSV (BOM, CRLF,
// quotes, missing labels) train beyond chance, `mtl predict` round-trips, preprocess.json alone feeds a
// plain tf.loadLayersModel, transfer from MNIST resizes the images, and bad data exits 3 naming it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { PNG } from 'pngjs';
import { TABLE_HEADER, tableRows, writeCsv, writeImageFolder } from '../data/own-fixtures.ts';
import { type CliResult, mtl, tempDir } from './helpers.ts';

const root = tempDir('mtl-own-');
const runsDir = join(root, 'runs');
const env = { MTL_DATA_DIR: join(root, 'cache') };
const images = join(root, 'shapes');
const table = join(root, 'table.csv');

interface Summary {
  runId: string;
  runDir: string;
  test: { accuracy: number };
  data: { testSplit?: { seed: number } };
  tasks: Record<string, { test: { accuracy: number } }>;
  deltaM?: { dropPct: number };
}

let imageRun: CliResult;
let tableRun: CliResult;
let image: Summary;
let multi: Summary;

function config(name: string, text: string): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

before(() => {
  writeImageFolder(images, { perClass: 30, jpegEvery: 5 });
  // Every 10th row loses its `big` label: that task's loss and metrics skip it.
  const rows = tableRows(400).map((r, i) => (i % 10 === 3 ? [...r.slice(0, 4), ''] : r));
  writeCsv(table, TABLE_HEADER, rows);
  const imageCfg = config(
    'shapes',
    `name: shapes\ndata: { dataset: "images:${images}", normalize: scale01 }\nmodel: { type: mlp, hidden: [32] }\ntrainer: { epochs: 8, batchSize: 16 }\n`,
  );
  imageRun = mtl(['train', imageCfg, '--runs-dir', runsDir, '--json'], env);
  if (imageRun.code === 0) image = JSON.parse(imageRun.stdout);
  const tableCfg = config(
    'table',
    [
      'name: table',
      `data: { dataset: "csv:${table}" }`,
      'model: { type: mlp, hidden: [32] }',
      'trainer: { mode: multitask, epochs: 15, batchSize: 32 }',
      'tasks:',
      '  - { name: kind, labels: kind, head: { hidden: [] } }',
      '  - { name: big, labels: big, head: { hidden: [] } }',
      '',
    ].join('\n'),
  );
  tableRun = mtl(['train', tableCfg, '--runs-dir', runsDir, '--baselines', '--json'], env);
  if (tableRun.code === 0) multi = JSON.parse(tableRun.stdout);
});

test('an image folder of PNGs and JPEGs trains far beyond chance, with its held-out test split recorded', () => {
  assert.equal(imageRun.code, 0, imageRun.stderr);
  assert.ok(image.test.accuracy >= 0.8, `test accuracy ${image.test.accuracy} (chance 1/3)`);
  assert.equal(image.data.testSplit?.seed, 1337);
  const pre = JSON.parse(readFileSync(join(image.runDir, 'checkpoints', 'best', 'preprocess.json'), 'utf8'));
  assert.equal(pre.format, 'mtl-preprocess/2');
  assert.deepEqual([pre.input.kind, pre.input.height, pre.input.width, pre.input.channels], ['image', 12, 12, 1]);
  assert.deepEqual(pre.outputs, [{ name: 'label', labels: 'label', classes: ['bar', 'dot', 'ring'] }]);
});

test('predict names the right class for nearly every image, in the documented JSON shape', () => {
  const r = mtl(['predict', image.runId, images, '--runs-dir', runsDir, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.predictions.length, 90);
  const first = doc.predictions[0];
  assert.deepEqual(Object.keys(first), ['input', 'class', 'probabilities']);
  assert.deepEqual(Object.keys(first.probabilities), ['bar', 'dot', 'ring']);
  const sum = Object.values(first.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5);
  const right = doc.predictions.filter((p: { input: string; class: string }) =>
    p.input.includes(`/${p.class}/`),
  ).length;
  assert.ok(right / 90 >= 0.9, `${right}/90 right`);
  assert.deepEqual(doc.accuracy, { label: { accuracy: right / 90, examples: 90 } });
});

test('preprocess.json alone feeds a plain tf.loadLayersModel the same probabilities as predict', async () => {
  const file = join(images, 'dot', '000.png');
  const r = mtl(['predict', image.runId, file, '--runs-dir', runsDir, '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const expected = JSON.parse(r.stdout).predictions[0].probabilities;
  const ckpt = join(image.runDir, 'checkpoints', 'best');
  const pre = JSON.parse(readFileSync(join(ckpt, 'preprocess.json'), 'utf8'));
  // Outside mtl: pngjs gives RGBA; a 1-channel input takes the gray channel; then the steps in order.
  const png = PNG.sync.read(readFileSync(file));
  assert.deepEqual([png.height, png.width], [pre.input.height, pre.input.width]);
  const x = Float32Array.from({ length: png.width * png.height }, (_, p) => png.data[4 * p]! * pre.steps[0].factor);
  const probs = await plainPredict(ckpt, x, pre.inputShape);
  pre.outputs[0].classes.forEach((c: string, k: number) => {
    assert.ok(Math.abs(probs[k]! - expected[c]) < 1e-5, `${c}: ${probs[k]} vs ${expected[c]}`);
  });
});

test('a CSV with two label columns trains two tasks beyond chance, with baselines and Δm', () => {
  assert.equal(tableRun.code, 0, tableRun.stderr);
  assert.ok(multi.tasks.kind!.test.accuracy >= 0.7, `kind ${multi.tasks.kind!.test.accuracy} (chance 1/3)`);
  assert.ok(multi.tasks.big!.test.accuracy >= 0.7, `big ${multi.tasks.big!.test.accuracy} (chance 1/2)`);
  assert.equal(typeof multi.deltaM?.dropPct, 'number');
  // The baseline of `big` must not read `kind` as a feature (nor the other way round).
  const runs = JSON.parse(mtl(['runs', '--runs-dir', runsDir, '--json'], env).stdout) as { id: string; dir?: string }[];
  const baseline = runs.find((r) => r.id.startsWith('table-single-big'));
  assert.ok(baseline, 'baseline run of big');
  const pre = JSON.parse(readFileSync(join(runsDir, baseline.id, 'checkpoints', 'best', 'preprocess.json'), 'utf8'));
  assert.deepEqual(
    pre.input.columns.map((c: { name: string }) => c.name),
    ['x1', 'x2', 'colour'],
  );
});

test('predict on the CSV answers per task and reports accuracy on the rows that have each label', () => {
  const out = join(root, 'preds.csv');
  const r = mtl(['predict', multi.runId, table, '--runs-dir', runsDir, '--json', '--top', '1', '--out', out], env);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.predictions.length, 400);
  assert.deepEqual(Object.keys(doc.predictions[0]), ['input', 'tasks']);
  assert.deepEqual(Object.keys(doc.predictions[0].tasks), ['kind', 'big']);
  assert.equal(Object.keys(doc.predictions[0].tasks.kind.probabilities).length, 1, '--top 1');
  assert.equal(doc.accuracy.kind.examples, 400);
  assert.equal(doc.accuracy.big.examples, 360, 'the 40 rows without a big label are not counted');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 401);
  assert.equal(
    lines[0],
    'input,kind.class,kind.probability,kind.top1,kind.top1_p,big.class,big.probability,big.top1,big.top1_p',
  );
});

test('transfer from MNIST to an image folder decodes it at 28x28 grayscale', () => {
  const r = mtl(
    [
      'transfer',
      '--from',
      'mnist',
      '--to',
      `images:${images}`,
      '--limit',
      '300',
      '--source-epochs',
      '1',
      '--epochs',
      '2',
    ].concat(['--strategy', 'full', '--strategy', 'reinit', '--runs-dir', runsDir, '--json']),
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  const child = s.strategies.full.runIds[0];
  const pre = JSON.parse(readFileSync(join(runsDir, child, 'checkpoints', 'best', 'preprocess.json'), 'utf8'));
  assert.deepEqual([pre.inputShape, pre.input.height, pre.input.width, pre.input.channels], [[784], 28, 28, 1]);
  assert.ok(s.strategies.full.test.accuracy.mean > 0.34, `full ${s.strategies.full.test.accuracy.mean}`);
});

test('bad data and impossible settings exit 3 naming the file, row and column', () => {
  const bad = join(root, 'bad.csv');
  writeFileSync(bad, 'x,y,k\r\n1,2,a\r\n1,two,b\r\n3\r\n4,5,a\r\n6,7,b\r\n');
  const cfg = config('bad', `data: { dataset: "csv:${bad}", label: k }\ntrainer: { epochs: 1 }\n`);
  const r = mtl(['train', cfg, '--runs-dir', runsDir], env);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /bad\.csv: row 2 \(line 3\), column 'y': 'two' is not a number/);
  assert.match(r.stderr, /bad\.csv: row 3 \(line 4\): 1 fields, the header has 3/);
  const cnn = config('cnn', `data: { dataset: "csv:${table}", label: kind }\nmodel: { type: cnn }\n`);
  const v = mtl(['validate', cnn], env);
  assert.equal(v.code, 3);
  assert.match(v.stderr, /model\.type: a cnn needs images/);
  const p = mtl(['predict', image.runId, table, '--runs-dir', runsDir], env);
  assert.equal(p.code, 3);
  assert.match(p.stderr, /table\.csv: not a PNG or JPEG image \(this model takes images, not table rows\)/);
});

async function plainPredict(ckpt: string, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const modelJson = JSON.parse(readFileSync(join(ckpt, 'model.json'), 'utf8'));
  const weights = readFileSync(join(ckpt, 'weights.bin'));
  const model = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  });
  const out = model.predict(tf.tensor(x, [1, ...shape])) as import('@tensorflow/tfjs').Tensor;
  return out.dataSync() as Float32Array;
}
