// The fused dense step's background path (src/engine/fused/dense.ts, findBackground): a first layer
// whose inputs are an affine map of sparse data (standardized pixels: per feature, most rows hold
// the value a black pixel maps to) takes the sparse products on S = x − 1·mᵀ plus rank-1
// corrections. Checked against the fused dense gemms, the generic tfjs step on wasm and on the cpu
// backend (float tolerance), for bits against the plain sparse path when the background is all 0,
// and for the same bits on 1 and 2 worker threads.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/defaults.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import {
  BACKGROUND_PATH,
  findBackground,
  fusedDenseStep,
  fusedDenseTuning,
  planFusedDense,
  SPARSE_PATH,
} from '../../src/engine/fused/dense.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { OP } from '../../src/engine/native/op-codes.ts';
import { gemm } from '../../src/engine/native/ops.ts';
import { NativeRuntime } from '../../src/engine/native/runtime.ts';
import { buildModel } from '../../src/models/build.ts';
import { Rng } from '../../src/random/rng.ts';
import { createOptimizer } from '../../src/train/optimizers.ts';
import { type ClassifierProgram, createClassifierProgram, type ParamGroup } from '../../src/train/single/classifier.ts';
import { CLASSES, type Data, ROWS, sparsePixels, standardized } from './background-data.ts';

const savedFused = process.env.MTL_FUSED;

before(async () => {
  await initBackend('wasm');
});

after(() => {
  if (savedFused === undefined) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = savedFused;
});

interface Run {
  program: ClassifierProgram;
  model: tf.LayersModel;
  groups: ParamGroup[];
}

function makeRun(data: Data, fused: boolean, hidden = [16, 8]): Run {
  const cfg = defaultConfig('t');
  const built = buildModel(
    { type: 'mlp', hidden, activation: 'relu', dropout: 0 },
    { imageShape: [1, 1, data.features], numClasses: CLASSES, rng: new Rng(7) },
  );
  const groups: ParamGroup[] = [
    {
      name: 'g0',
      layers: built.model.layers.filter((l) => l.trainableWeights.length > 0),
      lrScale: 1,
      optimizer: createOptimizer({ ...cfg.trainer.optimizer, lr: 0.01 }),
    },
  ];
  if (fused) delete process.env.MTL_FUSED;
  else process.env.MTL_FUSED = '0';
  const program = createClassifierProgram({
    model: built.model,
    train: data,
    val: null,
    numClasses: CLASSES,
    batchSize: 32,
    groups,
    regularization: { l1: 0, l2: 0 },
    rng: new Rng(5),
    scoreValidation: () => ({ metrics: {}, monitor: 0 }),
  });
  delete process.env.MTL_FUSED;
  assert.equal(program.fused(), fused);
  return { program, model: built.model, groups };
}

/** Steps `from` to `from + steps` of the run (a new epoch, reshuffled, every stepsPerEpoch steps). */
function train(run: Run, steps: number, from = 0): Array<{ loss: number; correct: number }> {
  const out: Array<{ loss: number; correct: number }> = [];
  for (let s = from; s < from + steps; s++) {
    if (s % run.program.stepsPerEpoch === 0) run.program.beginEpoch(1 + s / run.program.stepsPerEpoch);
    const r = run.program.step(0.01);
    out.push({ loss: r.loss.dataSync()[0]!, correct: r.correct!.dataSync()[0]! });
    tf.dispose([r.loss, r.correct!]);
  }
  return out;
}

/** With maxSparseDensity 0 no batch is sparse enough: the fused step's dense gemms. */
function denseGemms<T>(f: () => T): T {
  const saved = fusedDenseTuning.maxSparseDensity;
  fusedDenseTuning.maxSparseDensity = 0;
  try {
    return f();
  } finally {
    fusedDenseTuning.maxSparseDensity = saved;
  }
}

const calls = (name: string): number => kernelCalls.get(name) ?? 0;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Same per-step losses (relative tol) and correct counts, weights within tol (absolute). */
function assertClose(
  a: ReturnType<typeof train>,
  b: ReturnType<typeof train>,
  ra: Run,
  rb: Run,
  tol: number,
  what: string,
): void {
  a.forEach((r, i) => {
    assert.ok(
      Math.abs(r.loss - b[i]!.loss) <= tol * Math.max(1, r.loss),
      `${what}: step ${i} loss ${r.loss} vs ${b[i]!.loss}`,
    );
    assert.equal(b[i]!.correct, r.correct, `${what}: step ${i} correct`);
  });
  const [wa, wb] = [ra.model.getWeights(), rb.model.getWeights()];
  wa.forEach((w, i) => {
    const d = maxDiff(w.dataSync(), wb[i]!.dataSync());
    assert.ok(d <= tol, `${what}: weight ${ra.model.weights[i]!.name}: max |Δ| ${d}`);
  });
}

test('findBackground: per feature the most frequent of (majority vote, min, max) when it beats 0, else 0', () => {
  const n = 10;
  const cols = [
    (i: number) => (i < 7 ? 2.5 : i), // 70% 2.5: the majority
    (i: number) => i + 0.5, // all distinct: 0 (a value one row holds is no background)
    (i: number) => (i < 6 ? 0 : 3), // 60% 0, 40% 3: 0
    (i: number) => (i < 5 ? 0 : 5), // 50/50 tie of 0 and 5: 0 wins ties
    (i: number) => (i % 5 < 2 ? 7 : 0), // 40% 7, 60% 0: 0
    (i: number) => (i < 8 ? -0 : 1), // −0 majority: (+)0
    (i: number) => [-1, -1, -1, -1, 2, 3, 4, 5, 6, 7][i]!, // 40% −1 (no majority; the minimum)
    (i: number) => [9, 9, 9, 1, 2, 3, 4, 5, 6, 8][i]!, // 30% 9 (no majority; the maximum)
  ];
  const f = cols.length;
  const xs = new Float32Array(n * f);
  for (let i = 0; i < n; i++)
    cols.forEach((c, j) => {
      xs[i * f + j] = c(i);
    });
  const x = tf.tensor2d(xs, [n, f]);
  const scan = findBackground(x);
  assert.deepEqual(Array.from(scan.values!), [2.5, 0, 0, 0, 0, 0, -1, 9]);
  assert.ok(Object.is(scan.values![5], 0), '+0, not −0');
  // Entries off the background: 3 + 10 + 4 + 5 + 4 + 2 + 6 + 7 = 41 of 80; off 0: 10 + 10 + 4 + 5 + 4 + 2 + 10 + 10 = 55.
  assert.equal(scan.density, 41 / 80);
  assert.equal(scan.zeroDensity, 55 / 80);
  assert.equal(findBackground(x), scan, 'cached per tensor');
  const sparse = tf.tensor2d(
    xs.map((v) => (v === 2.5 || v === -1 || v === 9 ? 0 : v)),
    [n, f],
  );
  assert.equal(findBackground(sparse).values, null, 'all 0: no background');
  tf.dispose([x, sparse]);
});

test('kernels: S = x − 1·mᵀ compressed, S·W + (b + mᵀW) and Sᵀ·dz + m·(1ᵀdz) match the dense products', async () => {
  // Odd sizes: feature and unit tails past the vector widths (spmm's 32- and 4-wide blocks, scalars).
  const [rows, features, units] = [70, 102, 37];
  const rng = new Rng(11);
  const m = Float32Array.from({ length: features }, (_, j) => (j % 7 === 3 ? 0 : rng.normal() * 2));
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() < 0.75 ? m[i % features]! : rng.normal() * 3;
  const w = Float32Array.from({ length: features * units }, () => rng.normal() * 0.1);
  const bias = Float32Array.from({ length: units }, () => rng.normal());
  const dz = Float32Array.from({ length: rows * units }, () => rng.normal() * 0.01);
  const rt = await NativeRuntime.create(1);
  try {
    rt.reset();
    const [xp, mp, wp, bp, dzp] = [x, m, w, bias, dz].map((a) => rt.input(a)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const maxNnz = rows * features;
    const [nnz, dense] = [rt.alloc(1), rt.alloc(rows * features)];
    const index = rt.alloc(rows);
    rt.viewI32(index, rows).set(Int32Array.from({ length: rows }, (_, i) => (i * 37) % rows));
    const byRows = [rt.alloc(rows + 1), rt.alloc(maxNnz + 4), rt.alloc(maxNnz + 4)] as const;
    const byColumns = [rt.alloc(features + 1), rt.alloc(maxNnz), rt.alloc(maxNnz)] as const;
    const [y, yDense, shifted, sums, dW, dWDense, segments] = [
      rows * units,
      rows * units,
      units,
      units,
      features * units,
      features * units,
      2 * Math.max(rows, features),
    ].map((n) => rt.alloc(n)) as [number, number, number, number, number, number, number];
    rt.run([OP.SPARSIFY, rows, features, xp, index, dense, maxNnz, nnz, ...byRows, ...byColumns, mp], false);
    const order = Array.from(rt.viewI32(index, rows));
    const gathered = rt.view(dense, rows * features).slice();
    order.forEach((r, i) => {
      assert.deepEqual(
        gathered.subarray(i * features, (i + 1) * features),
        x.subarray(r * features, (r + 1) * features),
      );
    });
    let offBackground = 0;
    for (const r of order) for (let j = 0; j < features; j++) offBackground += x[r * features + j] !== m[j] ? 1 : 0;
    assert.equal(rt.viewI32(nnz, 1)[0], offBackground, 'entries equal to m are exact zeros of S');
    // Forward: relu(x·W + b).
    rt.run([OP.VEC_MAT, features, units, mp, wp, bp, shifted], false);
    rt.run([OP.SPMM, rows, units, features, ...byRows, wp, units, y, units, shifted, 1, segments, 0, 0], false);
    gemm(rt, {
      m: rows,
      n: units,
      k: features,
      transA: false,
      transB: false,
      aPtr: dense,
      bPtr: wp,
      cPtr: yDense,
      biasPtr: bp,
      relu: true,
      accumulate: false,
    });
    // Weight gradient: xᵀ·dz.
    rt.run([OP.COLUMN_SUM, rows, units, dzp, sums], false);
    rt.run([OP.SPMM, features, units, rows, ...byColumns, dzp, units, dW, units, 0, 0, segments, mp, sums], false);
    gemm(rt, {
      m: features,
      n: units,
      k: rows,
      transA: true,
      transB: false,
      aPtr: dense,
      bPtr: dzp,
      cPtr: dWDense,
      biasPtr: 0,
      accumulate: false,
    });

    const check = (
      got: Float32Array,
      fromGemm: Float32Array,
      want: (i: number, j: number) => [number, number],
      n: number,
      what: string,
    ): void => {
      let worst = 0;
      for (let i = 0; i < got.length; i++) {
        // Tolerance: a few float32 ulps of Σ|terms| (the sums' magnitudes).
        const [exact, magnitude] = want(Math.floor(i / n), i % n);
        const tol = 4e-7 * magnitude + 1e-30;
        worst = Math.max(worst, Math.abs(got[i]! - exact) / tol);
        assert.ok(Math.abs(got[i]! - exact) <= tol, `${what}[${i}]: ${got[i]} vs ${exact} (± ${tol})`);
        assert.ok(Math.abs(fromGemm[i]! - exact) <= tol, `${what} gemm[${i}]: ${fromGemm[i]} vs ${exact}`);
      }
      assert.ok(worst > 0, `${what}: not all exact`);
    };
    check(
      rt.view(y, rows * units).slice(),
      rt.view(yDense, rows * units).slice(),
      (i, j) => {
        let [s, a] = [bias[j]!, Math.abs(bias[j]!)];
        for (let k = 0; k < features; k++) {
          const t = x[order[i]! * features + k]! * w[k * units + j]!;
          [s, a] = [s + t, a + Math.abs(t)];
        }
        return [Math.max(0, s), a];
      },
      units,
      'x·W + b',
    );
    check(
      rt.view(dW, features * units).slice(),
      rt.view(dWDense, features * units).slice(),
      (k, j) => {
        let [s, a] = [0, 0];
        for (let i = 0; i < rows; i++) {
          const t = x[order[i]! * features + k]! * dz[i * units + j]!;
          [s, a] = [s + t, a + Math.abs(t)];
        }
        return [s, a];
      },
      units,
      'xᵀ·dz',
    );
  } finally {
    await rt.dispose();
  }
});

test('standardized data: the background path matches the dense gemms, the generic step on wasm and on cpu', async () => {
  const data = standardized(3);
  const scan = findBackground(data.x);
  assert.ok(scan.values, 'a background was found');
  assert.ok(scan.values[0]! < 0 && scan.values[22] === 1 && scan.values[18] === 0 && scan.values[21] === 0);
  assert.ok(scan.zeroDensity > 0.9 && scan.density < 0.45, `densities ${scan.zeroDensity} ${scan.density}`);
  const steps = 12;
  const background = makeRun(data, true);
  const before = [calls(BACKGROUND_PATH), calls(SPARSE_PATH)];
  const a = train(background, steps);
  assert.equal(calls(BACKGROUND_PATH) - before[0]!, steps, 'every step took the background path');
  assert.equal(calls(SPARSE_PATH), before[1], 'none the plain sparse path');

  const dense = makeRun(data, true);
  const b = denseGemms(() => train(dense, steps));
  assert.equal(calls(BACKGROUND_PATH) - before[0]!, steps, 'the dense gemms are not the background path');
  assertClose(b, a, dense, background, 1e-6, 'fused dense gemms');
  assert.ok(
    background.model.getWeights().some((w, i) => maxDiff(w.dataSync(), dense.model.getWeights()[i]!.dataSync()) > 0),
    'the two paths round differently (so the comparison is not vacuous)',
  );

  const generic = makeRun(data, false);
  assertClose(train(generic, steps), a, generic, background, 1e-6, 'generic wasm');

  const onCpu = makeRun(data, false);
  await tf.setBackend('cpu');
  try {
    const c = train(onCpu, steps);
    assertClose(c, a, onCpu, background, 1e-6, 'generic cpu');
  } finally {
    await tf.setBackend('wasm');
  }
});

test('a batch too dense for the sparse products takes the dense gemms (x itself, not x − m)', () => {
  const data = standardized(4);
  const saved = fusedDenseTuning.maxSparseDensity;
  const background = makeRun(data, true);
  const dense = makeRun(data, true);
  const start = calls(BACKGROUND_PATH);
  // Alternate: background, too dense, background...
  const a: ReturnType<typeof train> = [];
  for (let s = 0; s < 6; s++) {
    fusedDenseTuning.maxSparseDensity = s % 2 === 0 ? saved : 0;
    try {
      a.push(...train(background, 1, s));
    } finally {
      fusedDenseTuning.maxSparseDensity = saved;
    }
  }
  assert.equal(calls(BACKGROUND_PATH) - start, 3);
  assertClose(
    denseGemms(() => train(dense, 6)),
    a,
    dense,
    background,
    1e-6,
    'mixed',
  );
});

test('an all-zero background is the plain sparse path, bit for bit', () => {
  const data = sparsePixels(3);
  assert.equal(findBackground(data.x).values, null, 'pixels: background 0 everywhere');
  const before = [calls(BACKGROUND_PATH), calls(SPARSE_PATH)];
  const plain = makeRun(data, true);
  train(plain, 8);
  assert.equal(calls(SPARSE_PATH) - before[1]!, 8, 'the plain sparse path ran');
  assert.equal(calls(BACKGROUND_PATH), before[0], 'not the background path');

  // The background operand given explicitly as zeros: the kernels' background variants (x − 0,
  // + 0·W, + 0 ⊗ sums) change nothing but perhaps the sign of an exact zero.
  const model = (): { model: tf.LayersModel; groups: ParamGroup[] } => {
    const built = buildModel(
      { type: 'mlp', hidden: [16, 8], activation: 'relu', dropout: 0 },
      { imageShape: [1, 1, 18], numClasses: CLASSES, rng: new Rng(7) },
    );
    const groups = [
      {
        name: 'g0',
        layers: built.model.layers.filter((l) => l.trainableWeights.length > 0),
        lrScale: 1,
        optimizer: createOptimizer({ ...defaultConfig('t').trainer.optimizer, lr: 0.01 }),
      },
    ];
    return { model: built.model, groups };
  };
  const runs = [model(), model()];
  const plans = runs.map((r) =>
    planFusedDense(r.model, r.groups, { x: data.x, y: data.y, numClasses: CLASSES, regularization: { l1: 0, l2: 0 } }),
  );
  assert.ok(plans[0] && plans[1] && plans[0].background === null);
  plans[1]!.background = new Float32Array(18);
  const rng = new Rng(9);
  const losses: number[][] = [[], []];
  for (let s = 0; s < 6; s++) {
    const index = Int32Array.from({ length: 32 }, () => Math.floor(rng.next() * ROWS));
    runs.forEach((r, k) => {
      for (const g of r.groups) (g.optimizer as unknown as { learningRate: number }).learningRate = 0.01;
      const { loss, correct } = fusedDenseStep(plans[k]!, data.x, data.y, index);
      losses[k]!.push(loss.dataSync()[0]!, correct.dataSync()[0]!);
      tf.dispose([loss, correct]);
    });
  }
  assert.equal(calls(BACKGROUND_PATH) - before[0]!, 6, 'the explicit zeros took the background path');
  assert.deepEqual(losses[1], losses[0]);
  runs[0]!.model.getWeights().forEach((w, i) => {
    const [x, y] = [w.dataSync(), runs[1]!.model.getWeights()[i]!.dataSync()];
    for (let j = 0; j < x.length; j++)
      assert.ok(x[j] === y[j], `${runs[0]!.model.weights[i]!.name}[${j}]: ${x[j]} vs ${y[j]}`);
  });
});

test('the background path gives the same bits on 1 and 2 worker threads, and on the heap beside them', () => {
  // The kernel runtime is chosen once per process (MTL_THREADS): one child process each. A step this
  // small runs on the backend's heap even where worker threads exist; `threaded` sends it to them.
  const script = fileURLToPath(new URL('./fused-dense-background.child.ts', import.meta.url));
  const out = (threads: string, ...args: string[]): string =>
    execFileSync(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, MTL_THREADS: threads },
      encoding: 'utf8',
    }).trim();
  const one = out('1');
  assert.match(one, /^background steps 10 threads 1 threaded steps 0 [0-9a-f]{64}$/);
  const two = out('2');
  assert.match(two, /^background steps 10 threads 2 threaded steps 0 [0-9a-f]{64}$/);
  const threaded = out('2', 'threaded');
  assert.match(threaded, /^background steps 10 threads 2 threaded steps 10 [0-9a-f]{64}$/);
  assert.equal(two.split(' ').pop(), one.split(' ').pop());
  assert.equal(threaded.split(' ').pop(), one.split(' ').pop());
});
