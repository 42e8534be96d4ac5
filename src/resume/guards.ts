// The guards of a resume: a run continues exactly only with the same config, the same data, the same
// versions and the same backend (kernel build and thread count included). Each difference is named,
// so a refused resume says what changed; `--force` resumes anyway and records resumeExact: false.
import { createHash } from 'node:crypto';
import type { BackendRecord } from '../engine/backend/backend.ts';
import { hashConfig, type RunRecord } from '../runs/run-record.ts';
import type { Guards } from './state.ts';

/** One named byte array of a dataset, e.g. `train.x`. */
export interface DataPart {
  name: string;
  data: ArrayBufferView;
}

/**
 * sha256 over every part's name, length and bytes: the prepared splits exactly as training sees
 * them (after --limit, the validation carve and normalization). ~0.3 s for the whole of MNIST as
 * float32 on this VM's SHA extensions, once per process.
 */
export function dataFingerprint(parts: DataPart[], extra: unknown = null): string {
  const hash = createHash('sha256');
  for (const p of parts) {
    hash.update(`${p.name}:${p.data.byteLength}\n`);
    hash.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  }
  hash.update(JSON.stringify(extra));
  return hash.digest('hex');
}

/** The guards an interrupted run recorded before its first epoch was saved: run.json's own facts. */
export function guardsFromRecord(record: RunRecord): Guards {
  return { configHash: record.configHash, data: null, versions: record.versions, backend: record.backend, extra: {} };
}

/** Every difference between the saved guards and now, as `what: before → now`; empty when none. */
export function compareGuards(saved: Guards, now: Guards): string[] {
  const out: string[] = [];
  const diff = (what: string, a: unknown, b: unknown): void => {
    if (a !== b) out.push(`${what}: ${show(a)} → ${show(b)}`);
  };
  diff('config (hash)', saved.configHash, now.configHash);
  if (saved.data !== null && now.data !== null) diff('data (fingerprint)', short(saved.data), short(now.data));
  for (const key of union(saved.versions, now.versions))
    diff(`version of ${key}`, saved.versions[key], now.versions[key]);
  const backend = (b: BackendRecord) => b as unknown as Record<string, unknown>;
  for (const key of union(backend(saved.backend), backend(now.backend)))
    diff(`backend.${key}`, backend(saved.backend)[key], backend(now.backend)[key]);
  for (const key of union(saved.extra, now.extra)) diff(key, short(saved.extra[key]), short(now.extra[key]));
  return out;
}

function union(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].sort();
}

function short(x: string | undefined): string | undefined {
  return x && x.length > 16 ? `${x.slice(0, 12)}…` : x;
}

function show(x: unknown): string {
  return x === undefined ? '(none)' : String(x);
}

export interface GuardInputs {
  config: unknown;
  versions: Record<string, string>;
  backend: BackendRecord;
  /** The prepared data (hashed on first use only). */
  data: () => DataPart[];
  /** Normalization and anything else about the data that is not in `data`'s bytes. */
  dataExtra?: unknown;
  extra?: Record<string, string>;
}

/** This run's guards, computed once on first use (the data fingerprint hashes the whole dataset). */
export function lazyGuards(o: GuardInputs): () => Guards {
  let guards: Guards | null = null;
  return () => {
    guards ??= {
      configHash: hashConfig(o.config),
      data: dataFingerprint(o.data(), o.dataExtra ?? null),
      versions: o.versions,
      backend: o.backend,
      extra: o.extra ?? {},
    };
    return guards;
  };
}
