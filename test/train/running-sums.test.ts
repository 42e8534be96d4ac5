// The loop's running sums: added in JavaScript (host-memory backends) they hold the bits of the
// tensor-op sums (the device path), step by step, with the first non-finite step found alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { tf } from '../../src/engine/backend/tf.ts';
import { Rng } from '../../src/random/rng.ts';
import type { StepResult } from '../../src/train/loop.ts';
import { DeviceSums, HostSums, type RunningSums, runningSums } from '../../src/train/running-sums.ts';

/** Step k's results: a float32 mean loss, a batch of 128 (the last one 37), a correct count. */
function steps(
  n: number,
  bad?: { at: number; value: number },
): Array<{ loss: number; count: number; correct: number }> {
  const rng = new Rng(7);
  return Array.from({ length: n }, (_, k) => ({
    loss: k === bad?.at ? bad.value : Math.fround(rng.next() * 3 + 1e-3 / (k + 1)),
    count: k === n - 1 ? 37 : 128,
    correct: Math.floor(rng.next() * 129),
  }));
}

function feed(sums: RunningSums, xs: ReturnType<typeof steps>, withCorrect: boolean): void {
  for (const x of xs) {
    const out: StepResult = {
      loss: tf.scalar(x.loss),
      correct: withCorrect ? tf.scalar(x.correct) : null,
      count: x.count,
    };
    sums.add(out);
    assert.ok(out.loss.isDisposed, 'the step tensors are disposed of');
  }
}

test('host and device running sums agree bit for bit at every step', async () => {
  for (const backend of ['wasm'] as const) {
    await initBackend(backend as never);
    assert.ok(runningSums() instanceof HostSums, `${backend}: sums on the host`);
    const xs = steps(500);
    for (const withCorrect of [true, false]) {
      const before = tf.memory().numTensors;
      const [host, device] = [new HostSums(), new DeviceSums()];
      feed(host, xs, withCorrect);
      feed(device, xs, withCorrect);
      assert.equal(host.steps, 500);
      assert.equal(device.steps, 500);
      for (let k = 0; k <= 500; k++) assert.equal(host.loss(k), device.loss(k), `${backend}: sum after step ${k}`);
      assert.equal(host.correct(), device.correct());
      if (!withCorrect) assert.equal(host.correct(), null);
      // In float64 the sum differs: the float32 rounding is what the device does, not an accident.
      const exact = xs.reduce((s, x) => s + x.loss * x.count, 0);
      assert.notEqual(host.loss(500), exact);
      host.dispose();
      device.dispose();
      assert.equal(tf.memory().numTensors, before, `${backend}: no tensor left behind`);
    }
  }
  assert.ok(runningSums('cpu') instanceof HostSums, 'cpu: sums on the host');
  assert.ok(runningSums('webgl') instanceof DeviceSums, 'webgl: sums on the device');
  assert.ok(runningSums('tensorflow') instanceof DeviceSums, 'tfjs-node: sums on the device');
});

test('a NaN or an infinite loss shows in both sums from its step on', async () => {
  await initBackend('wasm' as never);
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const xs = steps(40, { at: 23, value });
    const [host, device] = [new HostSums(), new DeviceSums()];
    feed(host, xs, true);
    feed(device, xs, true);
    for (let k = 0; k <= 40; k++) {
      assert.equal(Number.isFinite(host.loss(k)), k <= 23, `host, step ${k}`);
      assert.equal(Object.is(host.loss(k), device.loss(k)), true, `step ${k}: ${host.loss(k)} vs ${device.loss(k)}`);
    }
    host.dispose();
    device.dispose();
  }
});
