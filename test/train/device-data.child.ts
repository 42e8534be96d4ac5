// Child process of device-data.test.ts: the first native call of a fresh process is a big byte split's
// upload (making the kernels' runtime on tfjs's heap then may grow the heap, and must not leave the
// upload writing through a stale view); prints the values that differ from applyPreprocess and the
// native uploads.

import { applyPreprocess, type Preprocess } from '../../src/data/normalize.ts';
import { lazySplit } from '../../src/data/prepare.ts';
import { initBackend } from '../../src/engine/backend/backend.ts';
import { kernelCalls } from '../../src/engine/kernels/calls.ts';
import { NATIVE_UPLOAD, toDevice } from '../../src/train/device-data.ts';

await initBackend('wasm');
const [n, f] = [54000, 784];
const bytes = Uint8Array.from({ length: n * f }, (_, i) => (i * 131 + (i >> 9)) % 256);
const p: Preprocess = { inputShape: [f], steps: [{ op: 'scale', factor: 1 / 255 }] };
const device = toDevice(lazySplit({ x: bytes, y: new Uint8Array(n), n }, p), [f]);
const [got, want] = [device.x.dataSync(), applyPreprocess(p, bytes, n)];
let differ = 0;
for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differ++;
console.log(JSON.stringify({ differ, native: kernelCalls.get(NATIVE_UPLOAD) ?? 0 }));
