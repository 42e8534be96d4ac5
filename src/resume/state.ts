// checkpoints/last/resume.json: everything besides weights and optimizer moments that decides a
// run's future, written with last/ (atomically, in the same folder swap) after every epoch: the
// loop's position, every random stream, the program's own state, what tfjs's optimizer files miss,
// and the guards that tell whether the run may be continued exactly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRecord } from '../engine/backend/backend.ts';
import { IntegrityError } from '../errors.ts';
import type { LoopState, ProgramState } from '../train/loop.ts';

export const RESUME_FILE = 'resume.json';
export const RESUME_FORMAT = 'mtl-resume/1';

/** Adam's running β-power products as float32 bits (hex): tfjs's getWeights() does not save them. */
export interface OptimizerExtras {
  group: string;
  className: string;
  accBeta1?: string;
  accBeta2?: string;
}

/** What must be unchanged for a resumed run to equal the uninterrupted one. */
export interface Guards {
  configHash: string;
  /** sha256 over the prepared splits and normalization (null when unknown: no epoch was saved yet). */
  data: string | null;
  /** mtl, tfjs and node versions (run.json's `versions`). */
  versions: Record<string, string>;
  /** Backend name, GPU, kernel build and thread count. */
  backend: BackendRecord;
  /** Anything else a mode depends on, e.g. `teacher:<task>` → the teacher checkpoint's manifest digest. */
  extra: Record<string, string>;
}

export interface ResumeState {
  format: typeof RESUME_FORMAT;
  loop: LoopState;
  /** State of the seeded stream behind Math.random (tfjs's dropout draws its seeds from it). */
  mathRandom: number | null;
  program: ProgramState;
  optimizers: OptimizerExtras[];
  guards: Guards;
}

/** JSON has no NaN or ±Infinity: monitor values are written as strings when not finite. */
function encodeNumber(x: number | null): number | string | null {
  return x === null || Number.isFinite(x) ? x : String(x);
}

function decodeNumber(x: unknown): number | null {
  if (x === null || x === undefined) return null;
  return typeof x === 'string' ? Number(x) : (x as number);
}

export function encodeResumeState(state: ResumeState): string {
  const loop = { ...state.loop, best: encodeNumber(state.loop.best), bestTie: encodeNumber(state.loop.bestTie) };
  return `${JSON.stringify({ ...state, loop }, null, 2)}\n`;
}

export function decodeResumeState(text: string, path: string): ResumeState {
  let value: ResumeState;
  try {
    value = JSON.parse(text) as ResumeState;
  } catch (err) {
    throw new IntegrityError(`${path} is damaged: ${(err as Error).message}`, path);
  }
  if (value?.format !== RESUME_FORMAT || typeof value.loop?.epoch !== 'number') {
    throw new IntegrityError(`${path} is not an ${RESUME_FORMAT} document`, path);
  }
  value.loop.best = decodeNumber(value.loop.best);
  value.loop.bestTie = decodeNumber(value.loop.bestTie);
  return value;
}

/** Float32 values as base64 of their bytes: exact, and a quarter of the size of decimal text. */
export function float32ToBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function base64ToFloat32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The bits of a float32 as 8 hex digits, and back. */
export function float32Hex(x: number): string {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0).toString(16).padStart(8, '0');
}

export function hexFloat32(hex: string): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, Number.parseInt(hex, 16));
  return view.getFloat32(0);
}

/** The last completed epoch saved in `<run>/checkpoints/last/` (for messages only: not verified), or null. */
export function peekSavedEpoch(runDir: string): number | null {
  try {
    const state = JSON.parse(readFileSync(join(runDir, 'checkpoints', 'last', RESUME_FILE), 'utf8'));
    return typeof state?.loop?.epoch === 'number' ? state.loop.epoch : null;
  } catch {
    return null;
  }
}
