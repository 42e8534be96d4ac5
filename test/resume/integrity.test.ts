// Every load path checks the checkpoint manifest before using a file: `init.from` (trainer.mode
// finetune) and `mtl transfer --from <run>` refuse a damaged source run at once, naming the file,
// before any run folder is made (`mtl eval` and `mtl resume` are covered through the CLI in
// test/reliability).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { stringifyConfig } from '../../src/config/print.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { IntegrityError } from '../../src/errors.ts';
import { buildModel } from '../../src/models/build.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { Rng } from '../../src/random/rng.ts';
import { resolveInitFrom } from '../../src/train/transfer/finetune-run.ts';
import { sourceFromRun } from '../../src/train/transfer/source.ts';
import { sampleRecord } from '../runs/helpers.ts';

const runs = mkdtempSync(join(tmpdir(), 'mtl-integrity-'));
after(() => rmSync(runs, { recursive: true, force: true }));
const id = 'mnist-mlp-20260101-000000-abcd';
const weights = join(runs, id, 'checkpoints', 'best', 'weights.bin');

before(async () => {
  await initBackend('wasm');
  const { config } = loadConfig('configs/mnist-mlp.yaml');
  const dir = join(runs, id);
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify(sampleRecord({ id, name: 'mnist-mlp', status: 'completed' })));
  writeFileSync(join(dir, 'config.yaml'), stringifyConfig(config));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ test: { accuracy: 0.9 } }));
  const { model } = buildModel(config.model, { imageShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) });
  await saveCheckpoint(join(dir, 'checkpoints', 'best'), model, { preprocess: { inputShape: [784], steps: [] } });
  model.dispose();
});

test('an intact source loads; a flipped byte makes init.from and transfer --from fail naming weights.bin', async () => {
  assert.equal((await resolveInitFrom(id, runs)).runId, id);
  assert.equal((await sourceFromRun(runs, id, undefined)).runId, id);
  const bytes = readFileSync(weights);
  bytes[100]! ^= 0x40;
  writeFileSync(weights, bytes);
  for (const load of [() => resolveInitFrom(id, runs), () => sourceFromRun(runs, id, undefined)]) {
    await assert.rejects(load(), (err: unknown) => {
      assert.ok(err instanceof IntegrityError, String(err));
      assert.equal(err.path, weights);
      assert.equal(err.exitCode, 3);
      return true;
    });
  }
});
