// mtl's native kernels on their own: a plain-JS reference for matmul, bit-identical results on 1 and 3
// threads (no reduction is split), and conv results independent of how the batch is staged.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tf } from '../../src/engine/backend/tf.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { OP } from '../../src/engine/native/op-codes.ts';
import {
  type ConvGeometry,
  type ConvPath,
  columnSum,
  conv2d,
  conv2dFilterGrad,
  conv2dInputGrad,
  convPath,
  gemm,
  gemmTuning,
  matMul,
  maxPoolAt,
  maxPoolGrad,
  maxPoolGradArgAt,
  SKINNY_GEMM,
  winogradTile,
} from '../../src/engine/native/ops.ts';
import { NativeRuntime, PARALLEL_CALL } from '../../src/engine/native/runtime.ts';
import { Rng } from '../../src/random/rng.ts';

let one: NativeRuntime;
let three: NativeRuntime;
before(async () => {
  [one, three] = await Promise.all([NativeRuntime.create(1), NativeRuntime.create(3)]);
});
after(async () => {
  await Promise.all([one.dispose(), three.dispose()]);
});

const rng = new Rng(5);
const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

function referenceMatMul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  ta: boolean,
  tb: boolean,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ta ? p * m + i : i * k + p]! * b[tb ? j * k + p : p * n + j]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

test('matmul matches a float64 reference for every transpose and tail size, with bias and relu', () => {
  for (const [m, n, k] of [
    [1, 1, 1],
    [4, 8, 256],
    [5, 9, 257],
    [70, 33, 600],
    [3, 130, 17],
  ] as const) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = random(m * k);
        const b = random(k * n);
        const bias = random(n);
        const out = new Float32Array(m * n);
        matMul(one, { a, b, m, n, k, transA: ta, transB: tb, bias, relu: true }, out);
        const ref = referenceMatMul(a, b, m, n, k, ta, tb);
        for (let i = 0; i < out.length; i++) {
          const want = Math.max(0, ref[i]! + bias[i % n]!);
          assert.ok(
            Math.abs(out[i]! - want) <= 1e-4 * Math.sqrt(k) * 4,
            `${m}x${n}x${k} ta=${ta} tb=${tb} [${i}]: ${out[i]} vs ${want}`,
          );
        }
      }
    }
  }
});

test("skinny gemms (N ≤ 12) give the packed gemm's bits: transposes, tails, two K blocks, accumulate, bias, relu, threads", () => {
  const shapes = [
    [7, 1, 5],
    [128, 10, 128],
    [31, 12, 700],
    [5, 3, 321],
    [64, 4, 1],
    [9, 8, 33],
    [300, 10, 784],
    [4, 11, 40], // M < N: chunks split the columns
    [2, 12, 500],
  ] as const;
  const saved = gemmTuning.skinny;
  let skinnyCalls = 0;
  try {
    for (const [m, n, k] of shapes) {
      const [a, b, bias, c0] = [random(m * k), random(k * n), random(n), random(m * n)];
      for (const [transA, transB, accumulate, rt] of [
        [false, false, false, one],
        [true, false, true, three],
        [false, true, true, one],
        [true, true, false, three],
      ] as const) {
        const relu = (m + k) % 2 === 1;
        const run = (skinny: boolean): Float32Array => {
          gemmTuning.skinny = skinny;
          rt.reset();
          const [aPtr, bPtr, biasPtr, cPtr] = [rt.input(a), rt.input(b), rt.input(bias), rt.input(c0.slice())];
          const before = kernelCalls.get(SKINNY_GEMM) ?? 0;
          gemm(rt, { m, n, k, transA, transB, aPtr, bPtr, cPtr, biasPtr, relu, accumulate });
          skinnyCalls += (kernelCalls.get(SKINNY_GEMM) ?? 0) - before;
          return rt.view(cPtr, m * n).slice();
        };
        const [packed, skinny] = [run(false), run(true)];
        const what = `${m}x${n}x${k} transA ${transA} transB ${transB} accumulate ${accumulate} relu ${relu}`;
        for (let i = 0; i < m * n; i++)
          assert.ok(Object.is(skinny[i], packed[i]), `${what} [${i}]: ${skinny[i]} vs ${packed[i]}`);
      }
    }
  } finally {
    gemmTuning.skinny = saved;
  }
  assert.equal(skinnyCalls, shapes.length * 4, 'every skinny run took the skinny path');
});

test('1 thread and 3 threads give bit-identical results', () => {
  const a = random(300 * 200);
  const b = random(200 * 90);
  const [x1, x3] = [new Float32Array(300 * 90), new Float32Array(300 * 90)];
  matMul(one, { a, b, m: 300, n: 90, k: 200, transA: true, transB: false }, x1);
  matMul(three, { a, b, m: 300, n: 90, k: 200, transA: true, transB: false }, x3);
  assert.deepEqual(x3, x1);
  const g = tf.backend_util.computeConv2DInfo([6, 12, 12, 8], [3, 3, 8, 16], 1, 1, 'same');
  const x = random(6 * 12 * 12 * 8);
  const f = random(3 * 3 * 8 * 16);
  const dy = random(6 * 12 * 12 * 16);
  for (const run of [
    (rt: NativeRuntime, o: Float32Array) => conv2d(rt, g, x, f, o),
    (rt: NativeRuntime, o: Float32Array) => conv2dInputGrad(rt, g, dy, f, o),
  ]) {
    const [o1, o3] = [new Float32Array(x.length * 2), new Float32Array(x.length * 2)];
    run(one, o1);
    run(three, o3);
    assert.deepEqual(o3, o1);
  }
  const [d1, d3] = [new Float32Array(f.length), new Float32Array(f.length)];
  conv2dFilterGrad(one, g, x, dy, d1);
  conv2dFilterGrad(three, g, x, dy, d3);
  assert.deepEqual(d3, d1);
  const pg = tf.backend_util.computePool2DInfo([6, 12, 12, 8], 2, 2, 1, 'valid');
  const pdy = random(6 * 6 * 6 * 8);
  const [p1, p3] = [new Float32Array(x.length), new Float32Array(x.length)];
  maxPoolGrad(one, pg, x, pdy, p1);
  maxPoolGrad(three, pg, x, pdy, p3);
  assert.deepEqual(p3, p1);
  assert.ok(p1.some((v) => v !== 0));
  // 10 channels: the tiled path with overlapping last lanes.
  const pg10 = tf.backend_util.computePool2DInfo([6, 12, 12, 10], 2, 2, 1, 'valid');
  const x10 = random(6 * 12 * 12 * 10);
  const dy10 = random(6 * 6 * 6 * 10);
  const [q1, q3] = [new Float32Array(x10.length), new Float32Array(x10.length)];
  maxPoolGrad(one, pg10, x10, dy10, q1);
  maxPoolGrad(three, pg10, x10, dy10, q3);
  assert.deepEqual(q3, q1);
  assert.equal(q1.filter((v) => v !== 0).length, dy10.length);
});

test('workers that turn up at any moment change nothing: parallel calls and calls on one thread keep their bits', async () => {
  // Spinning workers call `run` over and over, so they also arrive after a call ended, while the next
  // call's parameters are being written, and during calls the caller runs alone. None of that may
  // touch a result: each one equals the 1-thread runtime's, bit for bit.
  const spinning = await NativeRuntime.create(3, true);
  try {
    const big = { a: random(160 * 96), b: random(96 * 80), m: 160, n: 80, k: 96 }; // 1.2M MACs: parallel
    const small = { a: random(9 * 7), b: random(7 * 5), m: 9, n: 5, k: 7 };
    const wide = { a: random(12 * 40), b: random(40 * 64), m: 12, n: 64, k: 40 };
    const product = (rt: NativeRuntime, p: typeof big, transA: boolean): Float32Array => {
      const out = new Float32Array(p.m * p.n);
      matMul(rt, { a: p.a, b: p.b, m: p.m, n: p.n, k: p.k, transA, transB: false, relu: true }, out);
      return out;
    };
    const sums = (rt: NativeRuntime): Float32Array => {
      const out = new Float32Array(64);
      columnSum(rt, wide.b, 40, 64, out);
      return out;
    };
    const steps = [
      (rt: NativeRuntime) => product(rt, big, false),
      (rt: NativeRuntime) => product(rt, small, false),
      (rt: NativeRuntime) => product(rt, big, true),
      (rt: NativeRuntime) => sums(rt),
      (rt: NativeRuntime) => product(rt, wide, false),
    ];
    const expected = steps.map((s) => s(one));
    const parallelBefore = kernelCalls.get(PARALLEL_CALL) ?? 0;
    let differing = 0;
    for (let round = 0; round < 1000; round++) {
      steps.forEach((s, i) => {
        if (!s(spinning).every((v, j) => Object.is(v, expected[i]![j]))) differing++;
      });
    }
    assert.equal(differing, 0, `${differing} of ${1000 * steps.length} results differ from one thread's`);
    assert.ok((kernelCalls.get(PARALLEL_CALL) ?? 0) - parallelBefore >= 2000, 'the big products ran in parallel');
  } finally {
    await spinning.dispose();
  }
});

test('max-pool gradient from the window positions the forward pass recorded: the same dx bit for bit', () => {
  // 2x2 and 3x3 windows, 8 and 10 channels (overlapping last lanes), ties (values rounded to a few
  // levels) and a NaN, on 1 and 3 threads.
  const cases: Array<[[number, number, number, number], number]> = [
    [[5, 12, 12, 8], 2],
    [[3, 9, 9, 10], 3],
  ];
  for (const [shape, win] of cases) {
    const g = tf.backend_util.computePool2DInfo(shape, win, win, 1, 'valid');
    const x = random(shape.reduce((a, b) => a * b)).map((v) => Math.round(v * 3) / 3);
    x[7] = Number.NaN;
    const dy = random(g.batchSize * g.outHeight * g.outWidth * g.inChannels);
    const want = new Float32Array(x.length);
    maxPoolGrad(one, g, x, dy, want);
    for (const rt of [one, three]) {
      rt.reset();
      const xPtr = rt.input(x);
      const dyPtr = rt.input(dy);
      const y = rt.alloc(dy.length);
      const arg = rt.alloc(Math.ceil(dy.length / 4));
      const dx = rt.alloc(x.length);
      maxPoolAt(rt, g, xPtr, y, arg);
      maxPoolGradArgAt(rt, g, arg, dyPtr, dx);
      assert.deepEqual(rt.view(dx, x.length), want, `${shape} window ${win}`);
    }
  }
});

test('direct convolutions: bit-identical on 1 and 3 threads, and within rounding of im2col + sgemm', () => {
  // Batch 37: filter-gradient chunks of 3 images (13 partial sums), forward and input gradient per image.
  const cases: Array<[[number, number, number, number], [number, number, number, number], 'same' | 'valid']> = [
    [[37, 12, 12, 10], [5, 5, 10, 20], 'same'],
    [[37, 14, 13, 1], [5, 5, 1, 10], 'valid'],
  ];
  for (const [xs, fs, pad] of cases) {
    const g = tf.backend_util.computeConv2DInfo(xs, fs, 1, 1, pad);
    const x = random(xs.reduce((a, b) => a * b));
    const f = random(fs.reduce((a, b) => a * b));
    const bias = random(fs[3]);
    const dy = random(g.batchSize * g.outHeight * g.outWidth * g.outChannels);
    const passes: Array<[string, number, (rt: NativeRuntime, o: Float32Array, path: ConvPath) => ConvPath]> = [
      ['forward', dy.length, (rt, o, path) => conv2d(rt, g, x, f, o, { bias, relu: true, path })],
      ['input', x.length, (rt, o, path) => conv2dInputGrad(rt, g, dy, f, o, { path })],
      ['filter', f.length, (rt, o, path) => conv2dFilterGrad(rt, g, x, dy, o, { path })],
    ];
    for (const [name, n, run] of passes) {
      const [o1, o3, ref] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      assert.equal(run(one, o1, 'direct'), 'direct');
      assert.equal(run(three, o3, 'direct'), 'direct');
      assert.equal(run(one, ref, 'im2col'), 'im2col');
      assert.deepEqual(o3, o1, `${xs} ${name}: 3 threads differ from 1`);
      let worst = 0;
      let scale = 1;
      for (let i = 0; i < n; i++) {
        worst = Math.max(worst, Math.abs(o1[i]! - ref[i]!));
        scale = Math.max(scale, Math.abs(ref[i]!));
      }
      assert.ok(worst <= 1e-5 * scale, `${xs} ${name}: max |direct − im2col| = ${worst} (scale ${scale})`);
    }
  }
  // The default path: direct for few input channels, im2col for strides and many channels.
  const direct = tf.backend_util.computeConv2DInfo([8, 28, 28, 1], [5, 5, 1, 10], 1, 1, 'valid');
  assert.equal(convPath(direct, 'forward', one.workFloats), 'direct');
  assert.equal(convPath(direct, 'filter', one.workFloats), 'direct');
  const strided = tf.backend_util.computeConv2DInfo([8, 28, 28, 1], [5, 5, 1, 10], 2, 1, 'valid');
  assert.equal(convPath(strided, 'forward', one.workFloats), 'im2col');
  assert.throws(() =>
    conv2d(one, strided, new Float32Array(8 * 784), new Float32Array(250), new Float32Array(8 * 1440), {
      path: 'direct',
    }),
  );
  const wide = tf.backend_util.computeConv2DInfo([8, 13, 13, 32], [3, 3, 32, 64], 1, 1, 'valid');
  assert.notEqual(convPath(wide, 'forward', one.workFloats), 'direct');
});

/** Max |Winograd − im2col| allowed, relative to max(1, max |im2col|). Measured on the cases below
 *  (2026-11-30, FMA build): F(2x2) at most 7.7e-7, F(4x4) at most 6.5e-6 (mnist-cnn's layer, input
 *  gradient: its transforms scale by up to 8 and 5). */
const WINOGRAD_TOLERANCE: Array<[ConvPath, number]> = [
  ['winograd', 1e-5],
  ['winograd4', 1e-5],
  ['winograd-adjoint', 1e-5],
  ['winograd4-adjoint', 1e-5],
];

test('Winograd convolutions F(2x2) and F(4x4) (forward, both gradients): bit-identical on 1 and 3 threads, within rounding of im2col + sgemm', () => {
  // mnist-cnn's second layer (batch 37: chunks of tiles cross images; filter-gradient chunks of 3 images),
  // odd and even output sizes, 'same' and 'valid', channel counts that are not multiples of 4 (or of the
  // 8-wide sgemm panels), one-row images.
  const cases: Array<[[number, number, number, number], [number, number, number, number], 'same' | 'valid']> = [
    [[37, 13, 13, 32], [3, 3, 32, 64], 'valid'],
    [[3, 7, 9, 5], [3, 3, 5, 7], 'same'],
    [[4, 8, 6, 9], [3, 3, 9, 13], 'valid'],
    [[2, 1, 2, 8], [3, 3, 8, 3], 'same'],
    [[5, 10, 12, 12], [3, 3, 12, 20], 'same'],
  ];
  for (const [xs, fs, pad] of cases) {
    const g = tf.backend_util.computeConv2DInfo(xs, fs, 1, 1, pad);
    const x = random(xs.reduce((a, b) => a * b));
    const f = random(fs.reduce((a, b) => a * b));
    const bias = random(fs[3]);
    const dy = random(g.batchSize * g.outHeight * g.outWidth * g.outChannels);
    const passes: Array<[string, number, (rt: NativeRuntime, o: Float32Array, path: ConvPath) => ConvPath]> = [
      ['forward', dy.length, (rt, o, path) => conv2d(rt, g, x, f, o, { path })],
      ['forward bias + relu', dy.length, (rt, o, path) => conv2d(rt, g, x, f, o, { bias, relu: true, path })],
      ['input', x.length, (rt, o, path) => conv2dInputGrad(rt, g, dy, f, o, { path })],
      ['filter', f.length, (rt, o, path) => conv2dFilterGrad(rt, g, x, dy, o, { path })],
    ];
    for (const [name, n, run] of passes) {
      const ref = new Float32Array(n);
      assert.equal(run(one, ref, 'im2col'), 'im2col');
      for (const [path, tol] of WINOGRAD_TOLERANCE) {
        if (path.endsWith('-adjoint') && name !== 'input') continue;
        const [o1, o3] = [new Float32Array(n), new Float32Array(n)];
        assert.equal(run(one, o1, path), path);
        assert.equal(run(three, o3, path), path);
        assert.deepEqual(o3, o1, `${xs} ${name} ${path}: 3 threads differ from 1`);
        let worst = 0;
        let scale = 1;
        for (let i = 0; i < n; i++) {
          worst = Math.max(worst, Math.abs(o1[i]! - ref[i]!));
          scale = Math.max(scale, Math.abs(ref[i]!));
        }
        if (process.env.MTL_SHOW_ERRORS) console.log(`${xs} ${name} ${path}: ${(worst / scale).toExponential(2)}`);
        assert.ok(worst <= tol * scale, `${xs} ${name}: max |${path} − im2col| = ${worst} (scale ${scale})`);
      }
    }
  }
  // The default path: Winograd for 3x3 stride-1 passes summing over 8+ channels (the filter gradient:
  // 8+ channels each way), F(4x4) where it takes fewer products than F(2x2) (mnist-cnn's 11x11 output
  // and 13x13 input), F(2x2) on small images; direct still first for few channels; MTL_WINOGRAD=0 turns
  // Winograd off, MTL_WINOGRAD4=0 F(4x4).
  const wide = tf.backend_util.computeConv2DInfo([8, 13, 13, 32], [3, 3, 32, 64], 1, 1, 'valid');
  assert.equal(convPath(wide, 'forward', one.workFloats), 'winograd4');
  assert.equal(convPath(wide, 'input', one.workFloats), 'winograd4-adjoint');
  assert.equal(convPath(wide, 'filter', one.workFloats), 'winograd4');
  const tiny = tf.backend_util.computeConv2DInfo([2, 1, 2, 20], [3, 3, 20, 9], 1, 1, 'same');
  assert.equal(convPath(tiny, 'forward', one.workFloats), 'winograd');
  // 'same': dy's tiles are dx's, a tie that the full correlation takes.
  const same = tf.backend_util.computeConv2DInfo([2, 8, 8, 16], [3, 3, 16, 40], 1, 1, 'same');
  assert.equal(convPath(same, 'input', one.workFloats), 'winograd4');
  assert.throws(
    () =>
      conv2d(one, tiny, new Float32Array(80), new Float32Array(9 * 20 * 9), new Float32Array(36), {
        path: 'winograd4-adjoint',
      }),
    /adjoint/,
  );
  assert.equal(winogradTile(6, 6), 2);
  assert.equal(winogradTile(7, 7), 4);
  // 256 → 256: the filter gradient's 16 partial sums would take 69 MB (F(2x2); F(4x4) 151 MB); it keeps im2col.
  const huge = tf.backend_util.computeConv2DInfo([2, 8, 8, 256], [3, 3, 256, 256], 1, 1, 'same');
  assert.equal(convPath(huge, 'forward', one.workFloats), 'winograd4');
  assert.equal(convPath(huge, 'filter', one.workFloats), 'im2col');
  const first = tf.backend_util.computeConv2DInfo([8, 28, 28, 1], [3, 3, 1, 32], 1, 1, 'valid');
  assert.equal(convPath(first, 'forward', one.workFloats), 'direct');
  const five = tf.backend_util.computeConv2DInfo([8, 13, 13, 32], [5, 5, 32, 64], 1, 1, 'valid');
  assert.equal(convPath(five, 'forward', one.workFloats), 'im2col');
  const strided = tf.backend_util.computeConv2DInfo([8, 13, 13, 32], [3, 3, 32, 64], 2, 1, 'valid');
  assert.equal(convPath(strided, 'forward', one.workFloats), 'im2col');
  assert.throws(() =>
    conv2d(
      one,
      five,
      new Float32Array(8 * 13 * 13 * 32),
      new Float32Array(25 * 32 * 64),
      new Float32Array(8 * 81 * 64),
      {
        path: 'winograd',
      },
    ),
  );
  const saved = process.env.MTL_WINOGRAD;
  process.env.MTL_WINOGRAD = '0';
  try {
    assert.equal(convPath(wide, 'forward', one.workFloats), 'im2col');
    assert.equal(convPath(wide, 'input', one.workFloats), 'im2col');
    assert.equal(convPath(wide, 'filter', one.workFloats), 'im2col');
  } finally {
    if (saved === undefined) delete process.env.MTL_WINOGRAD;
    else process.env.MTL_WINOGRAD = saved;
  }
  const saved4 = process.env.MTL_WINOGRAD4;
  process.env.MTL_WINOGRAD4 = '0';
  try {
    assert.equal(convPath(wide, 'forward', one.workFloats), 'winograd');
    assert.equal(convPath(wide, 'input', one.workFloats), 'winograd-adjoint');
    assert.equal(convPath(wide, 'filter', one.workFloats), 'winograd');
  } finally {
    if (saved4 === undefined) delete process.env.MTL_WINOGRAD4;
    else process.env.MTL_WINOGRAD4 = saved4;
  }
  const savedAdjoint = process.env.MTL_WINOGRAD_ADJOINT;
  process.env.MTL_WINOGRAD_ADJOINT = '0';
  try {
    assert.equal(convPath(wide, 'input', one.workFloats), 'winograd4');
  } finally {
    if (savedAdjoint === undefined) delete process.env.MTL_WINOGRAD_ADJOINT;
    else process.env.MTL_WINOGRAD_ADJOINT = savedAdjoint;
  }
});

test('staging a batch in small chunks gives the same convolution and gradients', () => {
  const g: ConvGeometry = tf.backend_util.computeConv2DInfo([9, 10, 10, 3], [3, 3, 3, 5], 1, 1, 'valid');
  const x = random(9 * 10 * 10 * 3);
  const f = random(3 * 3 * 3 * 5);
  const dy = random(9 * 8 * 8 * 5);
  const small = 3 * 8 * 8 * 27 * 4; // three images per chunk
  const pairs: Array<[Float32Array, Float32Array]> = [];
  const y = [new Float32Array(dy.length), new Float32Array(dy.length)];
  conv2d(one, g, x, f, y[0]!);
  conv2d(one, g, x, f, y[1]!, { chunkBytes: small });
  pairs.push([y[0]!, y[1]!]);
  const dx = [new Float32Array(x.length), new Float32Array(x.length)];
  conv2dInputGrad(one, g, dy, f, dx[0]!);
  conv2dInputGrad(one, g, dy, f, dx[1]!, { chunkBytes: small });
  pairs.push([dx[0]!, dx[1]!]);
  for (const [whole, chunked] of pairs) assert.deepEqual(chunked, whole);
  const df = [new Float32Array(f.length), new Float32Array(f.length)];
  conv2dFilterGrad(one, g, x, dy, df[0]!);
  conv2dFilterGrad(one, g, x, dy, df[1]!, { chunkBytes: small });
  // Chunks accumulate partial sums in another order: equal within float rounding.
  for (let i = 0; i < f.length; i++) assert.ok(Math.abs(df[0]![i]! - df[1]![i]!) < 1e-3, `dfilter[${i}]`);
});

test('on a host heap (no copies) results equal the copying runtime, bit for bit', () => {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536 });
  let top = 1 << 16;
  const malloc = (bytes: number): number => {
    const at = top;
    top += (bytes + 15) & ~15;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return at;
  };
  const host = NativeRuntime.onHost(memory, malloc, () => {});
  assert.equal(host.zeroCopy, true);
  assert.equal(one.zeroCopy, false);
  // Operands that live in the host memory are used in place; results are written in place.
  const place = (data: Float32Array): Float32Array => {
    const view = new Float32Array(memory.buffer, malloc(data.length * 4), data.length);
    view.set(data);
    return view;
  };
  const a = random(50 * 70);
  const b = random(70 * 30);
  const fromHost = place(new Float32Array(50 * 30));
  const copied = new Float32Array(50 * 30);
  matMul(host, { a: place(a), b: place(b), m: 50, n: 30, k: 70, transA: false, transB: false }, fromHost);
  matMul(one, { a, b, m: 50, n: 30, k: 70, transA: false, transB: false }, copied);
  assert.deepEqual(new Float32Array(new Float32Array(memory.buffer, fromHost.byteOffset, 1500)), copied);
  const g = tf.backend_util.computeConv2DInfo([4, 9, 9, 3], [3, 3, 3, 8], 1, 1, 'same');
  const x = random(4 * 9 * 9 * 3);
  const dy = random(4 * 9 * 9 * 8);
  const dfHost = place(new Float32Array(3 * 3 * 3 * 8));
  const dfCopy = new Float32Array(3 * 3 * 3 * 8);
  conv2dFilterGrad(host, g, place(x), place(dy), dfHost);
  conv2dFilterGrad(one, g, x, dy, dfCopy);
  assert.deepEqual(new Float32Array(new Float32Array(memory.buffer, dfHost.byteOffset, dfCopy.length)), dfCopy);
});

test('column sums', () => {
  const x = random(37 * 6);
  const out = new Float32Array(6);
  columnSum(one, x, 37, 6, out);
  for (let c = 0; c < 6; c++) {
    let s = 0;
    for (let r = 0; r < 37; r++) s += x[r * 6 + c]!;
    assert.ok(Math.abs(out[c]! - s) < 1e-4);
  }
});

// kernels.c's exp_d and log_d, operation for operation in JavaScript doubles: the softmax kernel computes
// its exponentials two at a time (f64x2) and must give exactly what the one-at-a-time formula gives.
function nearestEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}
function expD(x: number): number {
  if (x < -745.0) return 0;
  if (x > 709.0) x = 709.0;
  const n = nearestEven(x * Math.LOG2E);
  const r = x - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
  const c = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880, 1 / 3628800, 1 / 39916800];
  let t = 1 / 479001600;
  for (let i = c.length - 1; i >= 0; i--) t = c[i]! + r * t;
  const n1 = Math.trunc(n / 2);
  return t * 2 ** n1 * 2 ** (n - n1);
}
function logD(x: number): number {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, x);
  let e = ((bits.getUint32(0) >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (bits.getUint32(0) & 0x000fffff) | 0x3ff00000);
  let m = bits.getFloat64(0);
  if (m > Math.SQRT2) {
    m *= 0.5;
    e++;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let series = 1 / 17;
  for (const k of [15, 13, 11, 9, 7, 5, 3]) series = 1 / k + s2 * series;
  series = 1 + s2 * series;
  return e * Math.LN2 + 2 * s * series;
}

test('softmax cross-entropy: the exponentials taken two at a time give the one-at-a-time formula bit for bit', () => {
  const f = Math.fround;
  for (const [rows, cols, spread] of [
    [13, 10, 3],
    [9, 7, 40],
    [8, 1, 1],
    [17, 5, 900],
  ] as const) {
    const logits = Float32Array.from(random(rows * cols), (v) => v * spread);
    const labels = Int32Array.from({ length: rows }, (_, r) => (r === 3 ? -1 : r === 4 ? cols : r % cols));
    one.reset();
    const [l, y] = [one.input(logits), one.input(new Float32Array(labels.buffer))];
    const [d, out] = [one.alloc(rows * cols), one.alloc(2)];
    const scale = f(1 / rows);
    const scaleBits = new Int32Array(Float32Array.of(scale).buffer)[0]!;
    one.run([OP.SOFTMAX_XENT, rows, cols, l, y, d, scaleBits, out, out + 4], false);
    const got = one.view(d, rows * cols).slice();
    const [loss, correct] = one.view(out, 2);
    let sumLoss = 0;
    let right = 0;
    for (let r = 0; r < rows; r++) {
      const row = logits.subarray(r * cols, (r + 1) * cols);
      let arg = 0;
      for (let c = 1; c < cols; c++) if (row[c]! > row[arg]!) arg = c;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += expD(row[c]! - row[arg]!);
      const lse = row[arg]! + logD(sum);
      for (let c = 0; c < cols; c++) {
        const want = f(f(f(expD(row[c]! - lse)) - (c === labels[r] ? 1 : 0)) * scale);
        assert.ok(
          Object.is(got[r * cols + c], want),
          `[${rows}x${cols}] d[${r}][${c}]: ${got[r * cols + c]} vs ${want}`,
        );
      }
      if (labels[r]! >= 0 && labels[r]! < cols) sumLoss += lse - row[labels[r]!]!;
      right += arg === labels[r] ? 1 : 0;
    }
    assert.ok(Object.is(loss, f(sumLoss / rows)), `[${rows}x${cols}] loss ${loss} vs ${f(sumLoss / rows)}`);
    assert.equal(correct, right);
  }
});
