// mtl's wasm kernels against tfjs's pure-JS cpu kernels (the reference): forward ops and the gradients
// training uses (matmul with transposes, conv filter/input gradients, max-pool gradient, bias sums).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { batchNormTuning } from '../../src/engine/kernels/batch-norm.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { fusedConvTuning } from '../../src/engine/kernels/fused-conv.ts';
import { winogradTile } from '../../src/engine/native/ops.ts';
import { Rng } from '../../src/random/rng.ts';

before(async () => {
  await initBackend('wasm');
});

const rng = new Rng(11);
function random(shape: number[]): { values: Float32Array; shape: number[] } {
  const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
  return { values, shape };
}

/** Run `f` on fresh tensors under each backend; returns each output's values. */
async function onBackend(
  name: 'wasm' | 'cpu',
  inputs: Array<{ values: Float32Array; shape: number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(name);
  return tf.tidy(() => {
    const out = f(...inputs.map((i) => tf.tensor(i.values, i.shape)));
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

/** Which kernels the wasm run must take: mtl's own (kernelCalls rises) or the stock one (it does not). */
interface Expect {
  /** Kernels whose mtl implementation must handle at least one call of the wasm run. */
  mtl?: string[];
  /** Kernels whose calls must all fall back to the stock tfjs-backend-wasm kernel. */
  stock?: string[];
  /** Largest |wasm − cpu| allowed, relative to max(1, |cpu|) (default 1e-4). */
  tolerance?: number;
}

/** Run `f` on wasm and return how many calls each mtl kernel handled meanwhile. */
async function countingCalls<T>(f: () => Promise<T>): Promise<{ result: T; calls: Map<string, number> }> {
  const before = new Map(kernelCalls);
  const result = await f();
  const calls = new Map<string, number>();
  for (const [name, n] of kernelCalls) if (n !== (before.get(name) ?? 0)) calls.set(name, n - (before.get(name) ?? 0));
  return { result, calls };
}

/** Each array of `mine` equal to the same one of `ref` element by element, sign of zero included. */
function assertSameBits(label: string, mine: ArrayLike<number>[], ref: ArrayLike<number>[]): void {
  assert.equal(mine.length, ref.length, `${label}: output count`);
  mine.forEach((v, i) => {
    assert.equal(v.length, ref[i]!.length, `${label} output ${i}: length`);
    for (let j = 0; j < v.length; j++)
      assert.ok(Object.is(v[j], ref[i]![j]), `${label} output ${i} [${j}]: ${v[j]} vs ${ref[i]![j]}`);
  });
}

function assertPaths(label: string, calls: Map<string, number>, expect: Expect): void {
  const seen = [...calls].map(([k, n]) => `${k}×${n}`).join(' ') || 'none';
  if (process.env.MTL_TEST_SHOW_CALLS) console.log(`${label}: ${seen}`);
  for (const name of expect.mtl ?? [])
    assert.ok(calls.has(name), `${label}: mtl's ${name} did not run (mtl kernels: ${seen})`);
  for (const name of expect.stock ?? [])
    assert.ok(!calls.has(name), `${label}: ${name} should fall back to the stock kernel (mtl kernels: ${seen})`);
}

async function assertMatchesCpu(
  label: string,
  inputs: Array<{ values: Float32Array; shape: number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  expect: Expect,
): Promise<void> {
  assert.ok((expect.mtl?.length ?? 0) + (expect.stock?.length ?? 0) > 0, `${label}: name the kernels that must run`);
  const tolerance = expect.tolerance ?? 1e-4;
  const expected = await onBackend('cpu', inputs, f);
  const { result: actual, calls } = await countingCalls(() => onBackend('wasm', inputs, f));
  await tf.setBackend('wasm');
  assertPaths(label, calls, expect);
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.equal(a.length, e.length, `${label}[${i}] length`);
    let worst = 0;
    let scale = 1;
    for (let j = 0; j < e.length; j++) {
      worst = Math.max(worst, Math.abs(a[j]! - e[j]!));
      scale = Math.max(scale, Math.abs(e[j]!));
    }
    assert.ok(worst <= tolerance * scale, `${label}[${i}]: max |wasm − cpu| = ${worst} (scale ${scale})`);
  });
}

test('matmul: all transpose combinations, odd sizes, values and both gradients', async () => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [5, 7, 3],
    [37, 300, 29],
    [130, 33, 9],
  ] as const) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = random(ta ? [k, m] : [m, k]);
        const b = random(tb ? [n, k] : [k, n]);
        const label = `${m}x${k}x${n} ta=${ta} tb=${tb}`;
        await assertMatchesCpu(label, [a, b], (x, y) => tf.matMul(x!, y!, ta, tb), { mtl: ['BatchMatMul'] });
        await assertMatchesCpu(
          `${label} grads`,
          [a, b],
          (x, y) => {
            const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q, ta, tb).square().sum());
            return g([x!, y!]);
          },
          { mtl: ['BatchMatMul'] },
        );
      }
    }
  }
});

test('batched matmul with a broadcast operand', async () => {
  const mtl = { mtl: ['BatchMatMul'] };
  await assertMatchesCpu('batch 3 x batch 1', [random([3, 4, 6]), random([1, 6, 5])], (a, b) => tf.matMul(a!, b!), mtl);
  await assertMatchesCpu(
    'batch 2 x batch 2 transposed',
    [random([2, 6, 4]), random([2, 5, 6])],
    (a, b) => tf.matMul(a!, b!, true, true),
    mtl,
  );
});

test('fused matmul: bias and relu, linear and relu; unsupported activations fall back', async () => {
  const inputs = [random([9, 17]), random([17, 11]), random([11])];
  for (const activation of ['linear', 'relu', 'elu'] as const) {
    const path = activation === 'elu' ? { stock: ['_FusedMatMul'] } : { mtl: ['_FusedMatMul'] };
    await assertMatchesCpu(
      `fused ${activation}`,
      inputs,
      (a, b, bias) => tf.fused.matMul({ a: a!, b: b!, bias, activation }),
      path,
    );
  }
  await assertMatchesCpu(
    'fused linear grads',
    inputs,
    (a, b, bias) => {
      const g = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
        tf.fused.matMul({ a: p, b: q, bias: r }).square().sum(),
      );
      return g([a!, b!, bias!]);
    },
    { mtl: ['_FusedMatMul', 'BatchMatMul', 'Sum'] },
  );
});

const CONV_GRADS: Expect = { mtl: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] };

test('conv2d: forward, input gradient and filter gradient for valid/same padding and strides', async () => {
  const cases: Array<{ x: number[]; f: number[]; strides: number; pad: 'valid' | 'same' }> = [
    { x: [2, 9, 9, 1], f: [3, 3, 1, 4], strides: 1, pad: 'valid' },
    { x: [3, 8, 7, 5], f: [3, 3, 5, 6], strides: 1, pad: 'same' },
    { x: [2, 10, 9, 3], f: [5, 3, 3, 4], strides: 2, pad: 'same' },
    { x: [1, 6, 6, 4], f: [1, 1, 4, 3], strides: 2, pad: 'valid' },
    // Direct kernels for short patches: 1 channel with zero padding; 3 channels, 36 outputs (32 + 4), stride 2.
    { x: [3, 10, 10, 1], f: [3, 3, 1, 32], strides: 1, pad: 'same' },
    { x: [2, 12, 11, 3], f: [3, 3, 3, 36], strides: 2, pad: 'same' },
  ];
  for (const c of cases) {
    const label = `conv ${c.x} * ${c.f} s${c.strides} ${c.pad}`;
    const inputs = [random(c.x), random(c.f)];
    await assertMatchesCpu(label, inputs, (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad), {
      mtl: ['Conv2D'],
    });
    await assertMatchesCpu(
      `${label} grads`,
      inputs,
      (x, f) => {
        const g = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf
            .conv2d(p as tf.Tensor4D, q as tf.Tensor4D, c.strides, c.pad)
            .square()
            .sum(),
        );
        return g([x!, f!]);
      },
      CONV_GRADS,
    );
  }
});

test('direct convolutions (stride 1, few channels): forward, fused bias + relu, both gradients; others keep im2col', async () => {
  // [x, filter, pad]: MultiLeNet's two layers (small batches), mnist-cnn's first layer with 'same' padding,
  // odd channel counts (7, 13: a partial last vector), an even kernel (asymmetric padding), a batch of 17
  // (filter-gradient chunks of 2 images; the last chunk reads its last image from a padded copy) and 3 output channels.
  const cases: Array<[number[], number[], 'valid' | 'same']> = [
    [[3, 28, 28, 1], [5, 5, 1, 10], 'valid'],
    [[5, 12, 12, 10], [5, 5, 10, 20], 'valid'],
    [[2, 11, 9, 1], [3, 3, 1, 32], 'same'],
    [[3, 7, 8, 4], [5, 5, 4, 7], 'same'],
    [[2, 9, 10, 6], [4, 2, 6, 13], 'same'],
    [[18, 6, 5, 2], [2, 3, 2, 3], 'valid'],
  ];
  for (const [xs, fs, pad] of cases) {
    const label = `direct conv ${xs} * ${fs} ${pad}`;
    const inputs = [random(xs), random(fs), random([fs[3]!])];
    await assertMatchesCpu(label, inputs, (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, pad), {
      mtl: ['Conv2D', 'Conv2D:direct'],
    });
    await assertMatchesCpu(
      `${label} fused bias + relu`,
      inputs,
      (x, f, b) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: 1,
          pad,
          bias: b,
          activation: 'relu',
        }),
      { mtl: ['FusedConv2D', 'FusedConv2D:direct'] },
    );
    // The input gradient goes direct from 4 input channels on (fewer would leave most vector lanes empty).
    const input = xs[3]! >= 4 ? 'mtl' : 'stock';
    await assertMatchesCpu(
      `${label} grads`,
      inputs,
      (x, f) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf
            .conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, pad)
            .square()
            .sum(),
        )([x!, f!]),
      {
        mtl: [
          'Conv2DBackpropFilter:direct',
          'Conv2DBackpropInput',
          ...(input === 'mtl' ? ['Conv2DBackpropInput:direct'] : []),
        ],
        stock: input === 'stock' ? ['Conv2DBackpropInput:direct'] : [],
      },
    );
  }
  // Strides, dilations and many input channels stay on im2col + sgemm.
  const x = random([2, 9, 9, 3]);
  const f = random([3, 3, 3, 8]);
  const notDirect = { mtl: ['Conv2D'], stock: ['Conv2D:direct'] };
  await assertMatchesCpu(
    'stride 2',
    [x, f],
    (p, q) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same'),
    notDirect,
  );
  await assertMatchesCpu(
    'dilation 2',
    [x, f],
    (p, q) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    notDirect,
  );
  await assertMatchesCpu(
    '32 input channels',
    [random([2, 6, 6, 32]), random([3, 3, 32, 8])],
    (p, q) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid'),
    notDirect,
  );
});

test('Winograd convolutions (3x3, stride 1, 8+ channels summed): forward, fused bias + relu, both gradients', async () => {
  // [x, filter, pad]: mnist-cnn's second layer (small batch), odd and even output sizes, 'same' and
  // 'valid', channel counts not multiples of 4, a one-row image. Few input channels keep the forward
  // pass and the filter gradient direct (≤ 16), and so do few channels both ways the input gradient
  // (≥ 4 in, ≤ 32 out). F(4x4) or F(2x2) as ops.ts winogradTile decides from the grid the tiles cover
  // (the output): F(4x4) for the first three cases' 11x11, 7x9, F(2x2) for 1x2 and 5x6 (a tie); the
  // input gradient as ops.ts winogradInputPath picks (winoInput below): the adjoint F(4x4) over dy's 11x11
  // and 6x4, F(2x2)'s full correlation for 'same' 5x6 (a tie all round). Measured 2026-11-30, max |wasm − cpu| over
  // max(1, |cpu|): F(4x4) at most 4.7e-6 (mnist-cnn's layer, forward), F(2x2) at most 4.4e-7 (the 1e-4
  // default tolerance holds both).
  const cases: Array<[number[], number[], 'valid' | 'same']> = [
    [[3, 13, 13, 32], [3, 3, 32, 64], 'valid'],
    [[2, 7, 9, 17], [3, 3, 17, 13], 'same'],
    [[4, 8, 6, 3], [3, 3, 3, 37], 'valid'],
    [[2, 1, 2, 20], [3, 3, 20, 9], 'same'],
    [[2, 5, 6, 18], [3, 3, 18, 34], 'same'],
  ];
  for (const [xs, fs, pad] of cases) {
    const label = `Winograd conv ${xs} * ${fs} ${pad}`;
    const inputs = [random(xs), random(fs), random([fs[3]!])];
    const forward = xs[3]! > 16;
    const edge = pad === 'valid' ? 2 : 0;
    const wino = (h: number, w: number): string => (winogradTile(h, w) === 4 ? 'winograd4' : 'winograd');
    // The input gradient: the fewest products of F(2x2) and F(4x4), each over dx's tiles or (the
    // adjoint) dy's; ties to the full correlation and to F(2x2).
    const winoInput = (ih: number, iw: number, oh: number, ow: number): string => {
      const cost = (h: number, w: number, m: number) => Math.ceil(h / m) * Math.ceil(w / m) * (m + 2) ** 2;
      const options: Array<[string, number]> = [
        ['winograd', cost(ih, iw, 2)],
        ['winograd-adjoint', cost(oh, ow, 2)],
        ['winograd4', cost(ih, iw, 4)],
        ['winograd4-adjoint', cost(oh, ow, 4)],
      ];
      return options.reduce((a, b) => (b[1] < a[1] ? b : a))[0];
    };
    const out = wino(xs[1]! - edge, xs[2]! - edge);
    const inp = winoInput(xs[1]!, xs[2]!, xs[1]! - edge, xs[2]! - edge);
    await assertMatchesCpu(label, inputs, (x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, pad), {
      mtl: ['Conv2D', ...(forward ? [`Conv2D:${out}`] : ['Conv2D:direct'])],
    });
    await assertMatchesCpu(
      `${label} fused bias + relu`,
      inputs,
      (x, f, b) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: 1,
          pad,
          bias: b,
          activation: 'relu',
        }),
      { mtl: ['FusedConv2D', forward ? `FusedConv2D:${out}` : 'FusedConv2D:direct'] },
    );
    const input = !(xs[3]! >= 4 && fs[3]! <= 32) ? 'mtl' : 'stock';
    await assertMatchesCpu(
      `${label} grads`,
      inputs,
      (x, f) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf
            .conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, pad)
            .square()
            .sum(),
        )([x!, f!]),
      {
        mtl: [
          forward ? `Conv2DBackpropFilter:${out}` : 'Conv2DBackpropFilter:direct',
          ...(input === 'mtl' ? [`Conv2DBackpropInput:${inp}`] : []),
        ],
        stock:
          input === 'stock'
            ? ['winograd', 'winograd4', 'winograd-adjoint', 'winograd4-adjoint'].map((w) => `Conv2DBackpropInput:${w}`)
            : [],
      },
    );
  }
  // 5x5 kernels and strides stay off Winograd.
  const notWinograd = { mtl: ['Conv2D'], stock: ['Conv2D:winograd', 'Conv2D:winograd4'] };
  await assertMatchesCpu(
    'Winograd: not for 5x5',
    [random([2, 9, 9, 20]), random([5, 5, 20, 8])],
    (p, q) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same'),
    notWinograd,
  );
  await assertMatchesCpu(
    'Winograd: not for stride 2',
    [random([2, 9, 9, 16]), random([3, 3, 16, 8])],
    (p, q) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same'),
    notWinograd,
  );
});

test('conv2d forward: dilation, fused bias + relu and bias + linear (inference fuses them), elu falls back', async () => {
  const x = random([2, 9, 8, 3]);
  const f = random([3, 3, 3, 5]);
  const bias = random([5]);
  const f8 = random([3, 3, 3, 8]);
  const bias8 = random([8]);
  const dilated = (p?: tf.Tensor, q?: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same', 'NHWC', 2);
  await assertMatchesCpu('conv dilation 2', [x, f], dilated, { mtl: ['Conv2D'] });
  await assertMatchesCpu('short-patch conv, dilation 2', [x, f8], dilated, { mtl: ['Conv2D'] });
  await assertMatchesCpu(
    'short-patch conv grads, stride 2 same',
    [x, f8],
    (p, q) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')
          .square()
          .sum(),
      )([p!, q!]),
    CONV_GRADS,
  );
  for (const activation of ['relu', 'linear', 'elu'] as const) {
    const path = activation === 'elu' ? { stock: ['FusedConv2D'] } : { mtl: ['FusedConv2D'] };
    await assertMatchesCpu(
      `fused conv ${activation}`,
      [x, f, bias],
      (p, q, b) =>
        tf.fused.conv2d({
          x: p as tf.Tensor4D,
          filter: q as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: b,
          activation,
        }),
      path,
    );
    await assertMatchesCpu(
      `fused short-patch conv ${activation}`,
      [x, f8, bias8],
      (p, q, b) =>
        tf.fused.conv2d({
          x: p as tf.Tensor4D,
          filter: q as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias: b,
          activation,
        }),
      path,
    );
  }
});

test('relu gradient: one mtl kernel on wasm, equal to the stock step-cast-multiply (zeros and negatives included)', async () => {
  const x = random([3, 5, 7, 4]);
  x.values[0] = 0;
  x.values[1] = -0;
  const dy = random([3, 5, 7, 4]);
  await assertMatchesCpu('relu grad', [x, dy], (p, q) => tf.grad((t: tf.Tensor) => tf.relu(t).mul(q!).sum())(p!), {
    mtl: ['Relu', 'MtlReluGrad'],
    tolerance: 0,
  });
  await tf.setBackend('wasm');
  const xt = tf.tensor(x.values, x.shape);
  const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t).sum())(xt));
  assert.ok(
    profile.kernels.some((k) => k.name === 'MtlReluGrad'),
    profile.kernels.map((k) => k.name).join(' '),
  );
  assert.ok(!profile.kernels.some((k) => k.name === 'Step'));
  xt.dispose();
});

test('bias add (either order, odd widths), plain adds, relu and tiled max-pool forward match the cpu kernels', async () => {
  const x = random([2, 5, 3, 12]);
  const bias = random([12]);
  const odd = random([7, 5]);
  const oddBias = random([5]);
  const add = { mtl: ['Add'], tolerance: 0 };
  await assertMatchesCpu('x + bias', [x, bias], (p, q) => tf.add(p!, q!), add);
  await assertMatchesCpu('bias + x', [x, bias], (p, q) => tf.add(q!, p!), add);
  await assertMatchesCpu('x + bias, width 5', [odd, oddBias], (p, q) => tf.add(p!, q!), add);
  await assertMatchesCpu('x + x, x + scalar (stock)', [x], (p) => [tf.add(p!, p!), tf.add(p!, tf.scalar(2))], {
    stock: ['Add'],
    tolerance: 0,
  });
  const special = { values: new Float32Array([NaN, -0, 0, -1, 2, -3, 4, -5, 6]), shape: [9] };
  const { result, calls } = await countingCalls(() => onBackend('wasm', [special], (p) => tf.relu(p!)));
  assertPaths('relu of NaN, -0, 0', calls, { mtl: ['Relu'] });
  const [r] = result;
  assert.deepEqual([...r!], [NaN, -0, 0, 0, 2, 0, 4, 0, 6]);
  assert.ok(Object.is(r![1], -0));
  await assertMatchesCpu('relu', [x], (p) => tf.relu(p!), { mtl: ['Relu'], tolerance: 0 });
  await assertMatchesCpu(
    'max-pool 2x2 (tiled)',
    [random([2, 11, 10, 8])],
    (p) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid'),
    { mtl: ['MaxPool'], tolerance: 0 },
  );
  await assertMatchesCpu(
    'max-pool 3x3 s3 (tiled)',
    [random([1, 9, 7, 4])],
    (p) => tf.maxPool(p as tf.Tensor4D, 3, 3, 'valid'),
    { mtl: ['MaxPool'], tolerance: 0 },
  );
  await assertMatchesCpu(
    'max-pool 2x2, 10 channels (stock: XNNPACK is faster there)',
    [random([2, 9, 8, 10])],
    (p) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid'),
    { stock: ['MaxPool'], tolerance: 0 },
  );
  await assertMatchesCpu(
    'max-pool 3x3 s2 same (stock)',
    [random([1, 9, 7, 4])],
    (p) => tf.maxPool(p as tf.Tensor4D, 3, 2, 'same'),
    { stock: ['MaxPool'], tolerance: 0 },
  );
});

test('max-pool gradient (2x2 valid, odd sizes, 3x3 stride 2 same)', async () => {
  await assertMatchesCpu(
    'pool 2x2',
    [random([2, 11, 11, 8])],
    (x) =>
      tf.grad((p: tf.Tensor) =>
        tf
          .maxPool(p as tf.Tensor4D, 2, 2, 'valid')
          .square()
          .sum(),
      )(x!),
    { mtl: ['MaxPool', 'MaxPoolGrad'] },
  );
  await assertMatchesCpu(
    'pool 3x3 s3 (tiled, uncovered edge)',
    [random([2, 10, 11, 12])],
    (x) =>
      tf.grad((p: tf.Tensor) =>
        tf
          .maxPool(p as tf.Tensor4D, 3, 3, 'valid')
          .square()
          .sum(),
      )(x!),
    { mtl: ['MaxPool', 'MaxPoolGrad'] },
  );
  await assertMatchesCpu(
    'pool 2x2, 6 channels (tiled gradient, the last 4 channels overlapping)',
    [random([3, 9, 8, 6])],
    (x) =>
      tf.grad((p: tf.Tensor) =>
        tf
          .maxPool(p as tf.Tensor4D, 2, 2, 'valid')
          .square()
          .sum(),
      )(x!),
    { stock: ['MaxPool'], mtl: ['MaxPoolGrad'] },
  );
  // Not tiled: the forward pool stays stock, the gradient is still mtl's (any geometry).
  await assertMatchesCpu(
    'pool 3x3 s2 same',
    [random([2, 7, 8, 3])],
    (x) =>
      tf.grad((p: tf.Tensor) =>
        tf
          .maxPool(p as tf.Tensor4D, 3, 2, 'same')
          .mul(2)
          .sum(),
      )(x!),
    { stock: ['MaxPool'], mtl: ['MaxPoolGrad'] },
  );
});

test('max-pool gradient sends each window to its first maximum on ties', async () => {
  const tie = { values: new Float32Array([1, 1, 1, 1]), shape: [1, 2, 2, 1] };
  const one = await countingCalls(() =>
    onBackend('wasm', [tie], (x) => tf.grad((p: tf.Tensor) => tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid').sum())(x!)),
  );
  assertPaths('tie, 1 channel', one.calls, { stock: ['MaxPool'], mtl: ['MaxPoolGrad'] });
  assert.deepEqual([...one.result[0]!], [1, 0, 0, 0]);
  // Four channels take the tiled path (stride = window): per channel, window positions (0,0) (0,1) (1,0) (1,1).
  const lanes = { values: new Float32Array([1, 0, 5, 2, 1, 3, 5, 2, 1, 3, 1, 2, 1, 0, 1, 9]), shape: [1, 2, 2, 4] };
  const four = await countingCalls(() =>
    onBackend('wasm', [lanes], (x) =>
      tf.grad((p: tf.Tensor) =>
        tf
          .maxPool(p as tf.Tensor4D, 2, 2, 'valid')
          .mul(tf.tensor1d([1, 2, 3, 4]))
          .sum(),
      )(x!),
    ),
  );
  assertPaths('ties, 4 channels', four.calls, { mtl: ['MaxPool', 'MaxPoolGrad'] });
  assert.deepEqual([...four.result[0]!], [1, 0, 3, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
});

test('sum over leading axes (bias gradients) and other reductions', async () => {
  const x = random([4, 5, 6, 7]);
  await assertMatchesCpu('sum [0,1,2]', [x], (t) => t!.sum([0, 1, 2]), { mtl: ['Sum'] });
  await assertMatchesCpu('sum [0,1,2] keepDims', [x], (t) => t!.sum([2, 0, 1], true), { mtl: ['Sum'] });
  await assertMatchesCpu('sum [1,2] (stock)', [x], (t) => t!.sum([1, 2]), { stock: ['Sum'] });
  await assertMatchesCpu('sum all (stock)', [x], (t) => t!.sum(), { stock: ['Sum'] });
});

test('gather of whole rows, for float and int tensors; a bad index is an error', async () => {
  const x = random([10, 3, 2]);
  const idx = [7, 0, 7, 9, 2];
  await assertMatchesCpu('gather rows', [x], (t) => tf.gather(t!, tf.tensor1d(idx, 'int32')), { mtl: ['GatherV2'] });
  await tf.setBackend('wasm');
  const labels = tf.tensor1d([5, 6, 7, 8], 'int32');
  const { result, calls } = await countingCalls(async () =>
    tf.tidy(() => [...tf.gather(labels, tf.tensor1d([3, 0], 'int32')).dataSync()]),
  );
  assertPaths('gather int32', calls, { mtl: ['GatherV2'] });
  assert.deepEqual(result, [8, 5]);
  assert.throws(() => tf.gather(labels, tf.tensor1d([4], 'int32')).dataSync(), /index value 4/);
  labels.dispose();
});

test('slices: contiguous row ranges (mtl) and strided ones (stock), float and int', async () => {
  const x = random([7, 5, 3]);
  await assertMatchesCpu('rows 2..5', [x], (t) => t!.slice([2, 0, 0], [3, 5, 3]), { mtl: ['Slice'] });
  await assertMatchesCpu('last row, -1 sizes', [x], (t) => t!.slice([6], [-1]), { mtl: ['Slice'] });
  await assertMatchesCpu('strided (columns)', [x], (t) => t!.slice([1, 1, 0], [4, 2, 2]), { stock: ['Slice'] });
  await tf.setBackend('wasm');
  const ints = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
  const { result, calls } = await countingCalls(async () => tf.tidy(() => [...ints.slice([1, 0], [2, 2]).dataSync()]));
  assertPaths('int32 rows', calls, { mtl: ['Slice'] });
  assert.deepEqual(result, [3, 4, 5, 6]);
  ints.dispose();
});

test('a small dense + conv training step leaves no tensors behind', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const [f, w] = [
    [3, 3, 1, 4],
    [64, 3],
  ].map((shape) => {
    const init = tf.tensor(random(shape).values, shape);
    const v = tf.variable(init);
    init.dispose();
    return v;
  }) as [tf.Variable<tf.Rank.R4>, tf.Variable];
  const x = tf.tensor(random([5, 10, 10, 1]).values, [5, 10, 10, 1]);
  const { calls } = await countingCalls(async () => {
    for (let i = 0; i < 3; i++) {
      const { grads, value } = tf.variableGrads(() => {
        const h = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, f, 1, 'valid')), 2, 2, 'valid').reshape([5, -1]);
        return tf.matMul(h, w).square().mean() as tf.Scalar;
      });
      tf.dispose([value, ...Object.values(grads)]);
    }
  });
  tf.dispose([f, w, x]);
  assert.equal(tf.memory().numTensors, before);
  // 4 channels, 8x8 → 4x4: the pool tiles, so every layer of the step ran on mtl's kernels.
  const step = ['Conv2D', 'Relu', 'MaxPool', 'BatchMatMul', 'MaxPoolGrad', 'MtlReluGrad', 'Conv2DBackpropFilter'];
  assertPaths('training step', calls, { mtl: step });
});

test('tile: statistics broadcast to activations, middle and mixed repeats, int32 and bool', async () => {
  for (const [shape, reps] of [
    [
      [1, 1, 1, 5],
      [3, 4, 2, 1],
    ],
    [
      [2, 3],
      [1, 4],
    ],
    [
      [2, 1, 3],
      [2, 5, 1],
    ],
    [[4], [3]],
    [
      [3, 2],
      [1, 1],
    ],
    [
      [2, 3, 1],
      [1, 1, 7],
    ],
  ] as Array<[number[], number[]]>) {
    await assertMatchesCpu(
      `tile ${JSON.stringify(shape)} × ${JSON.stringify(reps)}`,
      [random(shape)],
      (x) => tf.tile(x!, reps),
      { mtl: ['Tile'], tolerance: 0 },
    );
  }
  for (const backend of ['cpu', 'wasm'] as const) {
    await tf.setBackend(backend);
    const before = kernelCalls.get('Tile') ?? 0;
    const ints = tf.tidy(() =>
      Array.from(
        tf
          .tile(
            tf.tensor2d(
              [
                [1, -2],
                [3, 4],
              ],
              [2, 2],
              'int32',
            ),
            [2, 3],
          )
          .dataSync(),
      ),
    );
    const bools = tf.tidy(() => Array.from(tf.tile(tf.tensor1d([true, false], 'bool'), [3]).dataSync()));
    assert.deepEqual(ints.slice(0, 6), [1, -2, 1, -2, 1, -2], backend);
    assert.deepEqual(bools, [1, 0, 1, 0, 1, 0], backend);
    // mtl's kernels are registered for wasm only: both tiles ran there, neither on cpu.
    assert.equal((kernelCalls.get('Tile') ?? 0) - before, backend === 'wasm' ? 2 : 0, `${backend}: mtl Tile calls`);
  }
  await tf.setBackend('wasm');
});

test('mean over leading axes (BatchNorm moments) and the batchNorm gradients that tile', async () => {
  const x = random([6, 5, 4, 3]);
  await assertMatchesCpu('mean [0,1,2]', [x], (t) => tf.mean(t!, [0, 1, 2]), { mtl: ['Mean'] });
  await assertMatchesCpu('mean keepDims', [x], (t) => tf.mean(t!, [0, 1, 2], true), { mtl: ['Mean'] });
  await assertMatchesCpu('mean of a middle axis (stock kernel)', [x], (t) => tf.mean(t!, 1), { stock: ['Mean'] });
  await assertMatchesCpu(
    'moments + batchNorm grads',
    [x, random([3]), random([3])],
    (t, g, b) => {
      const f = (p: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Scalar => {
        const { mean, variance } = tf.moments(p, [0, 1, 2]);
        return tf
          .batchNorm(p, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3)
          .square()
          .sum();
      };
      return tf.grads(f)([t!, g!, b!]);
    },
    { mtl: ['Mean', 'Sum', 'Tile', 'MtlBatchNormGrad'], tolerance: 1e-3 },
  );
});

test('batchNorm forward: mtl kernel for per-channel or single moments, the stock kernel bit for bit', async () => {
  await tf.setBackend('wasm');
  // Channels 12 (whole vectors) and 6 (a tail); scale and offset present, absent or single values.
  for (const shape of [
    [5, 7, 3, 12],
    [4, 9, 6],
  ]) {
    const c = shape[shape.length - 1]!;
    const x = tf.tensor(random(shape).values, shape);
    const mean = tf.tensor1d(random([c]).values);
    const variance = tf.tensor1d(random([c]).values.map((v) => v * v + 0.01));
    const offset = tf.tensor1d(random([c]).values);
    const scale = tf.tensor1d(random([c]).values);
    const one = tf.scalar(random([1]).values[0]!).reshape([1]);
    // Moments tiled to x's whole shape: mtl's kernel declines them, so the stock kernel computes the
    // same elementwise formula: the reference, bit for bit.
    const full = (t: tf.Tensor): tf.Tensor => tf.broadcastTo(t.size === 1 ? t.reshape([]) : t, shape).clone();
    for (const [label, o, s] of [
      ['scale and offset', offset, scale],
      ['neither', undefined, undefined],
      ['single values', one, one],
    ] as const) {
      const before = kernelCalls.get('FusedBatchNorm') ?? 0;
      const mine = tf.batchNorm(x, mean, variance, o as tf.Tensor1D | undefined, s as tf.Tensor1D | undefined, 1e-3);
      assert.equal((kernelCalls.get('FusedBatchNorm') ?? 0) - before, 1, `${shape} ${label}: mtl's kernel ran`);
      const stock = tf.batchNorm(
        x,
        full(mean),
        full(variance),
        o ? full(o as tf.Tensor) : undefined,
        s ? full(s as tf.Tensor) : undefined,
        1e-3,
      );
      assert.equal((kernelCalls.get('FusedBatchNorm') ?? 0) - before, 1, `${shape} ${label}: the stock kernel ran`);
      const [a, b] = [mine.dataSync(), stock.dataSync()];
      for (let i = 0; i < a.length; i++)
        assert.ok(Object.is(a[i], b[i]), `${shape} ${label} [${i}]: ${a[i]} vs ${b[i]}`);
      tf.dispose([mine, stock]);
    }
    tf.dispose([x, mean, variance, offset, scale, one]);
  }
});

test('batchNorm gradient in one kernel: every gradient of training-mode batch norm bit for bit the stock gradient', async () => {
  await tf.setBackend('wasm');
  // As a BatchNormalization layer trains (batch moments, then batchNorm with γ and β); channels 12
  // (whole vectors) and 7 (a tail). (tfjs cannot record batchNorm without a scale.)
  for (const shape of [
    [5, 6, 3, 12],
    [3, 4, 5, 7],
  ]) {
    const c = shape[3]!;
    const inputs = [
      tf.tensor(
        random(shape).values.map((v) => 3 * v + 1),
        shape,
      ),
      tf.tensor1d(random([c]).values),
      tf.tensor1d(random([c]).values),
    ];
    const w = tf.tensor(random(shape).values, shape);
    const f = (...ts: tf.Tensor[]): tf.Scalar => {
      const [p, gamma, beta] = ts as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      const { mean, variance } = tf.moments(p, [0, 1, 2]);
      return tf.batchNorm(p, mean, variance, beta, gamma, 1e-3).mul(w).square().sum() as tf.Scalar;
    };
    const step = (): { values: Float32Array[]; calls: number } => {
      const before = kernelCalls.get('MtlBatchNormGrad') ?? 0;
      const out = tf.grads(f)(inputs);
      const values = out.map((t) => t.dataSync() as Float32Array);
      tf.dispose(out);
      return { values, calls: (kernelCalls.get('MtlBatchNormGrad') ?? 0) - before };
    };
    const mine = step();
    assert.equal(mine.calls, 1, `${shape}: mtl's gradient kernel ran`);
    batchNormTuning.fusedGrad = false;
    let stock: { values: Float32Array[]; calls: number };
    try {
      stock = step();
    } finally {
      batchNormTuning.fusedGrad = true;
    }
    assert.equal(stock.calls, 0, `${shape}: the stock gradient ran`);
    assert.equal(mine.values.length, 3);
    assertSameBits(`${shape}`, mine.values, stock.values);
    tf.dispose([...inputs, w]);
  }
});

test('BatchNormalization layer in training as two kernels: output, gradients and moving averages bit for bit tfjs-layers', async () => {
  await tf.setBackend('wasm');
  // Channels 12 (whole vectors) and 7 (a tail).
  for (const shape of [
    [5, 6, 3, 12],
    [3, 4, 5, 7],
  ]) {
    const c = shape[3]!;
    const xs = random(shape).values.map((v) => 3 * v + 1);
    const ws = random(shape).values;
    const weights = [random([c]).values, random([c]).values, random([c]).values, random([c]).values.map(Math.abs)];
    const run = (fused: boolean): { values: Float32Array[]; calls: number[] } => {
      batchNormTuning.fusedLayerTraining = fused;
      try {
        const layer = tf.layers.batchNormalization({});
        layer.build(shape);
        // γ, β, moving mean, moving variance.
        layer.setWeights(weights.map((v) => tf.tensor1d(v)));
        const x = tf.variable(tf.tensor(xs, shape));
        const w = tf.tensor(ws, shape);
        const names = ['MtlBatchNormTrain', 'MtlBatchNormTrainGrad'];
        const before = names.map((k) => kernelCalls.get(k) ?? 0);
        const { value, grads } = tf.variableGrads(
          () => (layer.apply(x, { training: true }) as tf.Tensor).mul(w).square().sum() as tf.Scalar,
          [x, ...(layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val) as tf.Variable[])],
        );
        const calls = names.map((k, i) => (kernelCalls.get(k) ?? 0) - before[i]!);
        const out = [value, ...Object.values(grads), ...layer.getWeights()];
        const values = out.map((t) => t.dataSync() as Float32Array);
        tf.dispose([value, ...Object.values(grads), x, w, ...layer.weights.map((v) => v.read())]);
        return { values, calls };
      } finally {
        batchNormTuning.fusedLayerTraining = true;
      }
    };
    const mine = run(true);
    const stock = run(false);
    assert.deepEqual(mine.calls, [1, 1], `${shape}: mtl's two kernels ran`);
    assert.deepEqual(stock.calls, [0, 0], `${shape}: tfjs-layers' own code ran`);
    // value, dx, dγ, dβ, then γ, β, moving mean, moving variance.
    assert.equal(mine.values.length, 8);
    assertSameBits(`${shape}`, mine.values, stock.values);
  }
});

test('per-channel Multiply and Sub (BatchNorm gradients): mtl kernel either operand order, the stock kernels bit for bit', async () => {
  await tf.setBackend('wasm');
  for (const shape of [
    [5, 7, 12],
    [3, 4, 2, 6],
  ]) {
    const c = shape[shape.length - 1]!;
    const x = tf.tensor(random(shape).values, shape);
    for (const vShape of [[c], [...shape.slice(0, -1).map(() => 1), c]]) {
      const v = tf.tensor(random([c]).values, vShape);
      const vFull = tf.broadcastTo(v, shape).clone();
      for (const [name, op] of [
        ['Multiply', (p: tf.Tensor, q: tf.Tensor) => tf.mul(p, q)],
        ['Sub', (p: tf.Tensor, q: tf.Tensor) => tf.sub(p, q)],
        ['Add', (p: tf.Tensor, q: tf.Tensor) => tf.add(p, q)],
      ] as const) {
        for (const swapped of [false, true]) {
          const before = kernelCalls.get(name) ?? 0;
          const mine = swapped ? op(v, x) : op(x, v);
          assert.equal(
            (kernelCalls.get(name) ?? 0) - before,
            1,
            `${name} ${shape} ${vShape} ${swapped}: mtl's kernel ran`,
          );
          const stock = swapped ? op(vFull, x) : op(x, vFull);
          assert.equal((kernelCalls.get(name) ?? 0) - before, 1, `${name} ${shape}: the stock kernel ran`);
          assert.deepEqual(mine.shape, shape);
          const [a, b] = [mine.dataSync(), stock.dataSync()];
          for (let i = 0; i < a.length; i++)
            assert.ok(Object.is(a[i], b[i]), `${name} ${shape} ${vShape} ${swapped} [${i}]: ${a[i]} vs ${b[i]}`);
          tf.dispose([mine, stock]);
        }
      }
      tf.dispose([v, vFull]);
    }
    x.dispose();
  }
});

test('linear convolutions while training run as conv2d + add: no gradient for the data, the fused path bit for bit', async () => {
  await tf.setBackend('wasm');
  // Two linear 3x3 convolutions (as before a BatchNorm): the second's input gradient is needed, the
  // first's (the data) is not.
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 6, kernelSize: 3, inputShape: [9, 9, 2], kernelInitializer: 'glorotUniform' }),
      tf.layers.conv2d({ filters: 5, kernelSize: 3, kernelInitializer: 'glorotUniform', biasInitializer: 'ones' }),
    ],
  });
  const x = tf.tensor(random([4, 9, 9, 2]).values, [4, 9, 9, 2]);
  const step = async (): Promise<{ kernels: string[]; values: Float32Array[] }> => {
    let out: tf.Tensor[] = [];
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => (model.apply(x) as tf.Tensor).square().sum() as tf.Scalar);
      out = [value, ...Object.values(grads)];
    });
    const values = out.map((t) => t.dataSync() as Float32Array);
    tf.dispose(out);
    return { kernels: profile.kernels.map((k) => k.name), values };
  };
  const count = (names: string[], name: string): number => names.filter((n) => n === name).length;
  const mine = await step();
  assert.equal(count(mine.kernels, 'Conv2DBackpropInput'), 1, mine.kernels.join(' '));
  assert.equal(count(mine.kernels, 'FusedConv2D'), 0);
  fusedConvTuning.unfuseLinearInTraining = false;
  try {
    const fused = await step();
    assert.equal(count(fused.kernels, 'Conv2DBackpropInput'), 2, fused.kernels.join(' '));
    assert.equal(count(fused.kernels, 'FusedConv2D'), 2);
    assert.equal(mine.values.length, 5);
    assertSameBits('linear convolutions', mine.values, fused.values);
  } finally {
    fusedConvTuning.unfuseLinearInTraining = true;
  }
  // Inference keeps the fused kernel.
  const profile = await tf.profile(() => tf.dispose(model.apply(x) as tf.Tensor));
  assert.equal(
    count(
      profile.kernels.map((k) => k.name),
      'FusedConv2D',
    ),
    2,
  );
  x.dispose();
  model.dispose();
});
