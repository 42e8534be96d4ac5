// Gradient-combination and loss-weighting rules on fixed gradient matrices, against answers derived
// by hand (projections, closed-form min-norm points, the CAGrad dual's stationarity condition).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/random/rng.ts';
import { cagradDirection } from '../../../src/train/multitask/weighting/cagrad.ts';
import { dwaWeights } from '../../../src/train/multitask/weighting/dwa.ts';
import {
  gradnormWeightGrad,
  softmaxWeights,
  softmaxWeightsBackward,
} from '../../../src/train/multitask/weighting/gradnorm.ts';
import { minNormTwo, minNormWeights } from '../../../src/train/multitask/weighting/mgda.ts';
import { pcgradProject, shuffledOrders } from '../../../src/train/multitask/weighting/pcgrad.ts';
import { rlwWeights } from '../../../src/train/multitask/weighting/rlw.ts';
import { uncertaintyObjective, uncertaintyWeights } from '../../../src/train/multitask/weighting/uncertainty.ts';
import { gradientDiagnostics, gramMatrix } from '../../../src/train/multitask/weighting/vectors.ts';

const v = (...xs: number[]): Float32Array => Float32Array.from(xs);
const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-6): void => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i]! - expected[i]!) < tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
};

describe('pcgrad', () => {
  it("projects conflicting gradients onto each other's normal plane and sums them", () => {
    // g1·g2 = −1 < 0: g1' = g1 − (−1/2)·g2 = (0.5, 0.5); g2' = g2 − (−1/1)·g1 = (0, 1).
    close(pcgradProject([v(1, 0), v(-1, 1)]), [0.5, 1.5]);
  });
  it('leaves non-conflicting gradients alone', () => {
    close(pcgradProject([v(1, 0), v(1, 1)]), [2, 1]);
  });
  it('uses the visiting order (three tasks, order matters)', () => {
    const g = [v(1, 0, 0), v(-1, 1, 0), v(-1, 0, 1)];
    // Task 0 via 1 then 2: (1,0,0) → +½(−1,1,0) = (½,½,0) → ·g2 = −½ → +¼(−1,0,1) = (¼,½,¼).
    // Task 1 via 0: (−1,1,0) + (1,0,0) = (0,1,0), then ⟂ g2. Task 2 likewise: (0,0,1).
    close(
      pcgradProject(g, [
        [1, 2],
        [0, 2],
        [0, 1],
      ]),
      [0.25, 1.5, 1.25],
    );
    // Task 0 via 2 then 1 ends at (¼,¼,½) instead.
    close(
      pcgradProject(g, [
        [2, 1],
        [0, 2],
        [0, 1],
      ]),
      [0.25, 1.25, 1.5],
    );
  });
  it("shuffles each task's order deterministically from the given stream", () => {
    const a = shuffledOrders(
      4,
      (() => {
        const r = new Rng(3);
        return () => r.next();
      })(),
    );
    const b = shuffledOrders(
      4,
      (() => {
        const r = new Rng(3);
        return () => r.next();
      })(),
    );
    assert.deepEqual(a, b);
    for (const order of a) assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    // Fisher-Yates by hand with every draw 0: k=2 swaps 2↔0 → [2,1,0], k=1 swaps 1↔0 → [1,2,0].
    assert.deepEqual(
      shuffledOrders(3, () => 0),
      [
        [1, 2, 0],
        [1, 2, 0],
        [1, 2, 0],
      ],
    );
    // Draws near 1 leave each position in place: the identity is one outcome, not the only one.
    assert.deepEqual(
      shuffledOrders(2, () => 0.99),
      [
        [0, 1],
        [0, 1],
      ],
    );
    assert.notDeepEqual(a[0], [0, 1, 2, 3], 'seed 3 gives a shuffled order');
  });
});

describe('mgda min-norm', () => {
  it('solves two vectors in closed form', () => {
    // v1 = (1,0), v2 = (0,2): γ = (4 − 0)/(1 + 4 − 0) = 0.8 → 0.8·v1 + 0.2·v2 = (0.8, 0.4), ‖·‖² = 0.8.
    const r = minNormTwo(1, 0, 4);
    assert.ok(Math.abs(r.gamma - 0.8) < 1e-12);
    assert.ok(Math.abs(r.cost - 0.8) < 1e-12);
    close(minNormWeights(gramMatrix([v(1, 0), v(0, 2)])), [0.8, 0.2]);
  });
  it('picks a vertex when one gradient lies beyond the other', () => {
    // v1 = (1,0), v2 = (2,0): v1·v2 = 2 ≥ v1·v1 = 1, so the min-norm point is v1 itself.
    assert.deepEqual(minNormTwo(1, 2, 4), { gamma: 1, cost: 1 });
  });
  it('runs Frank-Wolfe for more tasks', () => {
    close(minNormWeights(gramMatrix([v(1, 0, 0), v(0, 1, 0), v(0, 0, 1)])), [1 / 3, 1 / 3, 1 / 3], 1e-5);
    // A redundant third gradient gets no weight: the hull's min-norm point is between e1 and e2.
    close(minNormWeights(gramMatrix([v(1, 0), v(0, 1), v(1, 1)])), [0.5, 0.5, 0], 1e-5);
  });
});

describe('cagrad', () => {
  it('is the mean gradient when c = 0', () => {
    close(cagradDirection([v(1, 0), v(-0.5, 1)], 0).direction, [0.25, 0.5]);
  });
  it('solves the two-task dual at its stationary point', () => {
    const g1 = [1, 0];
    const g2 = [-0.5, 1];
    const c = 0.5;
    // w = (γ, 1−γ), u = g1 − g2: F(γ) = a + bγ + c'·√(Aγ² + Bγ + C), c' = c‖g0‖. F'(γ) = 0 squared gives
    // 4Ak·γ² + 4Bk·γ + (B²c'² − 4b²C) = 0 with k = Ac'² − b²; the root with sign(2Aγ + B) = −sign(b).
    const g0 = [0.25, 0.5];
    const u = [1.5, -1];
    const d2 = (p: number[], q: number[]): number => p[0]! * q[0]! + p[1]! * q[1]!;
    const cp = c * Math.sqrt(d2(g0, g0));
    const b = d2(u, g0);
    const A = d2(u, u);
    const B = 2 * d2(u, g2);
    const C = d2(g2, g2);
    const k = A * cp * cp - b * b;
    const disc = Math.sqrt((4 * B * k) ** 2 - 16 * A * k * (B * B * cp * cp - 4 * b * b * C));
    const roots = [(-4 * B * k + disc) / (8 * A * k), (-4 * B * k - disc) / (8 * A * k)];
    const gamma = roots.find((r) => r >= 0 && r <= 1 && Math.sign(2 * A * r + B) === -Math.sign(b))!;
    assert.ok(gamma > 0 && gamma < 1, 'this case has an interior solution');
    const gw = [gamma * g1[0]! + (1 - gamma) * g2[0]!, gamma * g1[1]! + (1 - gamma) * g2[1]!];
    const lambda = cp / Math.sqrt(d2(gw, gw));
    const expected = [(g0[0]! + lambda * gw[0]!) / (1 + c * c), (g0[1]! + lambda * gw[1]!) / (1 + c * c)];
    const r = cagradDirection([v(...g1), v(...g2)], c);
    close(r.dual, [gamma, 1 - gamma], 1e-5);
    close(r.direction, expected, 1e-5);
    // The direction is the effective weights applied to the task gradients.
    close(
      r.direction,
      [r.weights[0]! * g1[0]! + r.weights[1]! * g2[0]!, r.weights[0]! * g1[1]! + r.weights[1]! * g2[1]!],
      1e-6,
    );
  });
});

describe('loss weights', () => {
  it('dwa: ones for two epochs, then K·softmax(ratio / T)', () => {
    assert.deepEqual(dwaWeights([[1, 1]], 2, 2), [1, 1]);
    const w = dwaWeights(
      [
        [1, 1],
        [0.5, 1],
      ],
      2,
      2,
    );
    const e1 = Math.exp(0.25);
    const e2 = Math.exp(0.5);
    close(w, [(2 * e1) / (e1 + e2), (2 * e2) / (e1 + e2)], 1e-12);
  });
  it('rlw: positive weights summing to 1, reproducible from the seed', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed);
      return rlwWeights(3, () => r.normal());
    };
    const w = draw(7);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(w.every((x) => x > 0));
    assert.deepEqual(draw(7), w);
    assert.notDeepEqual(draw(8), w);
  });
  it('uncertainty: the objective is minimised at log σ² = log L', () => {
    const losses = [2, 0.1];
    const opt = losses.map(Math.log);
    for (const d of [-0.1, 0.1]) {
      assert.ok(
        uncertaintyObjective(losses, opt) <
          uncertaintyObjective(
            losses,
            opt.map((s) => s + d),
          ),
      );
    }
    close(uncertaintyWeights([0, Math.log(2)]), [0.5, 0.25]);
  });
  it('gradnorm: sign(G − target)·‖∇L‖ with target = mean(G)·(r / mean r)^α', () => {
    // G = (2, 1), mean 1.5; r̃ = (0.5, 1)/0.75; α = 1 → target = (1, 2) → signs (+, −).
    const r = gradnormWeightGrad({ weights: [1, 1], gradNorms: [2, 1], lossRatios: [0.5, 1], alpha: 1 });
    close(r.grad, [2, -1]);
    assert.ok(Math.abs(r.lossGrad - 2) < 1e-12);
  });
  it('gradnorm weights: T·softmax, and its chain rule matches finite differences', () => {
    const z = [0.3, -0.2, 0.1];
    const w = softmaxWeights(z);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 3) < 1e-12);
    const dw = [0.7, -1.1, 0.4];
    const dz = softmaxWeightsBackward(z, dw);
    const h = 1e-6;
    for (let j = 0; j < 3; j++) {
      const zp = z.map((x, i) => (i === j ? x + h : x));
      const fd = softmaxWeights(zp).reduce((a, wi, i) => a + dw[i]! * (wi - w[i]!), 0) / h;
      assert.ok(Math.abs(fd - dz[j]!) < 1e-5, `dz[${j}]`);
    }
  });
});

describe('gradient diagnostics', () => {
  it('reports norms and pairwise cosines', () => {
    const d = gradientDiagnostics([v(3, 4), v(-4, 3), v(3, 4)]);
    close(d.norms, [5, 5, 5]);
    close(d.cosine, [0, 1, 0]);
  });
});
