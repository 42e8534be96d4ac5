// Transfer statistics on hand-made results: mean ± std per strategy, gain vs reinit paired by seed,
// verdicts, notes that call out a transfer that hurts, and which child `mtl eval` picks.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FinetuneStrategy } from '../../../src/config/types.ts';
import { pickTransferChild, pp, type TransferSummary, transferNotes } from '../../../src/train/transfer/report.ts';
import {
  accuracyDiffSe,
  type ChildResult,
  summarizeStrategies,
  transferGains,
  verdictOf,
} from '../../../src/train/transfer/stats.ts';
import { sampleRecord } from '../../runs/helpers.ts';

function child(
  strategy: FinetuneStrategy,
  seed: number,
  accuracy: number,
  valAccuracy: number | null = accuracy,
): ChildResult {
  return {
    strategy,
    seed,
    runId: `${strategy}-${seed}`,
    valAccuracy,
    bestEpoch: seed - 40,
    seconds: 10,
    testExamples: 10000,
    test: { accuracy, macroF1: accuracy - 0.01, aucRoc: 0.99, loss: 0.3 },
  };
}

const RESULTS = [
  child('full', 42, 0.88),
  child('reinit', 42, 0.89),
  child('linear-probe', 42, 0.84, 0.95),
  child('gradual', 42, 0.895),
  child('full', 43, 0.87),
  child('reinit', 43, 0.9),
  child('linear-probe', 43, 0.86, 0.5),
  child('gradual', 43, 0.895),
  child('zero-shot', 42, 0.1, null),
];

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-12;

describe('transfer statistics', () => {
  it('summarizes each strategy over seeds (mean, sample std)', () => {
    const s = summarizeStrategies(RESULTS);
    assert.deepEqual(Object.keys(s), ['full', 'reinit', 'linear-probe', 'gradual', 'zero-shot']);
    assert.ok(close(s.full!.test.accuracy.mean, 0.875));
    assert.ok(close(s.full!.test.accuracy.std, Math.sqrt(0.00005)), String(s.full!.test.accuracy.std));
    assert.deepEqual(s.full!.runIds, ['full-42', 'full-43']);
    assert.deepEqual(s.full!.epochsToBest, { mean: 2.5, std: Math.SQRT1_2 });
    assert.equal(s['zero-shot']!.val, null);
  });

  it('pairs gains by seed, and compares a once-run zero-shot with every reinit seed', () => {
    const g = transferGains(RESULTS);
    assert.deepEqual(Object.keys(g), ['full', 'linear-probe', 'gradual', 'zero-shot']);
    assert.deepEqual(
      g.full!.perSeed.map((p) => [p.seed, +p.gain.toFixed(10)]),
      [
        [42, -0.01],
        [43, -0.03],
      ],
    );
    assert.ok(close(g.full!.mean, -0.02));
    assert.ok(close(g.full!.std, Math.sqrt(0.0002)));
    // se² = std²/2 + (0.875·0.125 + 0.895·0.105)/10000 = 0.0001 + 0.000020335
    assert.ok(close(g.full!.se, Math.sqrt(0.0001 + 0.000020335)), String(g.full!.se));
    assert.equal(g.full!.verdict, 'no clear effect', '−2.0 ± 1.4 pp over 2 seeds is inside 2 SE (2.19 pp)');
    assert.equal(g['linear-probe']!.verdict, 'hurts', '−4.5 pp');
    assert.equal(g.gradual!.verdict, 'no clear effect');
    assert.deepEqual(
      g['zero-shot']!.perSeed.map((p) => [p.seed, +p.gain.toFixed(10)]),
      [
        [42, -0.79],
        [43, -0.8],
      ],
    );
    assert.deepEqual(transferGains(RESULTS.filter((r) => r.strategy !== 'reinit')), {});
  });

  it('calls a gain helps or hurts only beyond twice its standard error', () => {
    assert.equal(verdictOf(-0.02, 0.009), 'hurts');
    assert.equal(verdictOf(0.02, 0.011), 'no clear effect');
    assert.equal(verdictOf(0.001, 0), 'helps');
    assert.equal(verdictOf(0, 0), 'no clear effect');
    // One seed at 88.8% vs 88.7% on 10,000 test images: the binomial noise alone is ±0.89 pp (2 SE).
    const one = transferGains([child('full', 42, 0.888), child('reinit', 42, 0.887)]).full!;
    assert.ok(close(one.se, accuracyDiffSe(0.888, 0.887, 10000)));
    assert.equal(one.verdict, 'no clear effect');
    assert.ok(close(accuracyDiffSe(0.9, 0.8, 100), Math.sqrt((0.09 + 0.16) / 100)));
    assert.equal(pp(-0.0062), '−0.62 pp');
    assert.equal(pp(0.1), '+10.00 pp');
  });
});

function summaryOf(results: ChildResult[]): TransferSummary {
  return {
    runId: 't',
    runDir: '/x/t',
    kind: 'transfer',
    status: 'completed',
    backend: { name: 'cpu', gpu: false },
    seed: 42,
    seeds: [42, 43],
    model: 'mlp',
    source: {
      runId: 's',
      runDir: '/x/s',
      dataset: 'mnist',
      reused: false,
      epochs: 10,
      test: { accuracy: 0.97, macroF1: 0.97, aucRoc: 0.99, loss: 0.1 },
    },
    target: {
      dataset: 'fashion',
      numClasses: 10,
      epochs: 10,
      normalize: 'scale01',
      normalizationFittedOn: 'target training split',
    },
    strategies: summarizeStrategies(results),
    gain: transferGains(results),
    zeroShot: { normalization: 'source', chance: 0.1 },
    notes: [],
    timing: { totalSeconds: 1 },
  };
}

describe('transfer notes and eval selection', () => {
  it('says plainly when transfer hurts, and reports zero-shot against chance', () => {
    const notes = transferNotes(summaryOf(RESULTS), ['full', 'linear-probe', 'reinit', 'zero-shot']);
    assert.ok(
      notes.some((n) => n.startsWith('linear-probe: transfer HURTS here: −4.50 pp ± 0.71')),
      notes.join('\n'),
    );
    assert.ok(
      notes.some((n) => /^full: no clear effect: −2\.00 pp ± 1\.41 .* \(2 standard errors = 2\.19 pp\)/.test(n)),
      notes.join('\n'),
    );
    assert.ok(
      notes.some((n) => /^zero-shot: .* 10\.00% on fashion \(chance 10\.0%/.test(n)),
      notes.join('\n'),
    );
    assert.ok(notes.some((n) => /over 2 seeds/.test(n)));
    const noBaseline = transferNotes(summaryOf(RESULTS.filter((r) => r.strategy !== 'reinit')), ['full']);
    assert.ok(noBaseline.some((n) => /no reinit baseline/.test(n)));
  });

  it('mtl eval picks the fine-tuned child with the best validation accuracy, never by test', () => {
    const root = mkdtempSync(join(tmpdir(), 'mtl-pick-'));
    const dir = join(root, 't');
    mkdirSync(dir);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summaryOf(RESULTS)));
    const run = { id: 't', dir, record: sampleRecord({ kind: 'transfer' }) };
    const best = pickTransferChild(run);
    // linear-probe seed 42 has the best val accuracy (0.95) though full and reinit have better test.
    assert.deepEqual(best, {
      strategy: 'linear-probe',
      runId: 'linear-probe-42',
      runDir: join(root, 'linear-probe-42'),
      seed: 42,
    });
    assert.equal(pickTransferChild(run, 'reinit').runId, 'reinit-43');
    assert.equal(pickTransferChild(run, 'zero-shot').runId, 'zero-shot-42');
    assert.throws(() => pickTransferChild(run, 'lp-ft'), /no 'lp-ft' child/);
  });
});
