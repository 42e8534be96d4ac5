// Decoded-dataset cache: one binary file per dataset (small JSON header + raw uint8 arrays), so a
// second load is one readFileSync plus views instead of parsing ~150 MB of JSON again. Each array
// carries a CRC-32 checked on every read: a damaged cache (a flipped byte, a short write) is a miss
// and is rebuilt, never used.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type { RawDataset, Split } from './types.ts';

/** Bump when the file layout or anything a loader puts into a dataset changes (2: per-array checksums). */
export const CACHE_VERSION = 2;
const MAGIC = 'MTLDATA\n';
const PREFIX_BYTES = MAGIC.length + 4; // magic + little-endian u32 header length

/** Project root = two levels above src/data; default cache dir is `<root>/datasets/cache`. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Cache dir: the option, else env `MTL_DATA_DIR`, else `<project root>/datasets/cache`. */
export function resolveCacheDir(cacheDir?: string): string {
  return cacheDir || process.env.MTL_DATA_DIR || path.join(PROJECT_ROOT, 'datasets', 'cache');
}

export interface SourceFile {
  name: string;
  size: number;
  mtimeMs: number;
}

/**
 * What a cache entry was built from. Checked on every read with size + mtime only: hashing the
 * sources (~150 MB for Fashion-MNIST) would cost ~0.25 s per load; sha256 is recorded at build time.
 */
export interface CacheKey {
  dataset: string;
  /** Package name@version the data came from. */
  origin: string;
  files: SourceFile[];
  /** Anything else the decoded content depends on (e.g. the fixed Fashion split seed). */
  params?: Record<string, number | string>;
}

export function describeSources(paths: string[]): SourceFile[] {
  return paths.map((p) => {
    const st = fs.statSync(p);
    return { name: path.basename(p), size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
  });
}

function sha256Files(paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) out[path.basename(p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  return out;
}

type Meta = Omit<RawDataset, 'train' | 'test'>;
const ARRAYS = ['train.x', 'train.y', 'test.x', 'test.y'] as const;

interface Header {
  version: number;
  key: CacheKey;
  meta: Meta;
  counts: { train: number; test: number };
  sha256: Record<string, string>;
  /** Byte length of each array, stored back to back after the header in ARRAYS order. */
  lengths: number[];
  /** Checksum of each array, in ARRAYS order. */
  checksums: { algorithm: ChecksumAlgorithm; values: string[] };
}

type ChecksumAlgorithm = 'crc32' | 'sha1';

/**
 * zlib's CRC-32 where Node has it (20.15+: ~50 ms over MNIST's 55 MB here, against ~115 ms for
 * sha256), else sha1. Damage detection, not security: nobody forges a local cache.
 */
function checksum(bytes: Uint8Array, algorithm: ChecksumAlgorithm): string {
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (algorithm === 'crc32' && crc32) return crc32(bytes).toString(16);
  return crypto.createHash('sha1').update(bytes).digest('hex');
}

function preferredChecksum(): ChecksumAlgorithm {
  return typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? 'crc32' : 'sha1';
}

/** Return the cached dataset, or build it, write the cache, and return the fresh one. */
export function loadWithCache(file: string, key: CacheKey, sourcePaths: string[], build: () => RawDataset): RawDataset {
  const cached = readCache(file, key);
  if (cached) return cached;
  const ds = build();
  writeCache(file, key, ds, sha256Files(sourcePaths));
  return ds;
}

/**
 * The last dataset this process read from a cache file. A trial host (sweep/host-serve.ts) runs trial
 * after trial on the same data: reading and checking MNIST's 55 MB again cost ~0.3 s per trial. A hit
 * needs the same key and the same file (device, inode, size, modification and change times to the
 * nanosecond): a rebuilt or damaged file is read afresh. The arrays are shared between the datasets
 * returned, which nothing writes to (subsets and preprocessing copy).
 */
let lastRead: { identity: string; ds: RawDataset } | null = null;

/** How this process's cache reads were served (tests assert which path ran). */
export const cacheReads = { fromMemory: 0, fromDisk: 0 };

function fileIdentity(file: string, key: CacheKey): string | null {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st?.isFile()) return null;
  return [path.resolve(file), st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, JSON.stringify(key)].join('\0');
}

/** A dataset sharing `ds`'s arrays in objects of its own (a caller may replace fields). */
function shallowCopy(ds: RawDataset): RawDataset {
  return { ...ds, train: { ...ds.train }, test: { ...ds.test } };
}

/** The cached dataset, or null when missing, corrupt, or built from different sources. */
export function readCache(file: string, key: CacheKey): RawDataset | null {
  const identity = fileIdentity(file, key);
  if (identity !== null && lastRead?.identity === identity) {
    cacheReads.fromMemory++;
    return shallowCopy(lastRead.ds);
  }
  const ds = readCacheFile(file, key);
  if (ds) cacheReads.fromDisk++;
  // Only a file that did not change while it was read is remembered.
  lastRead = ds && identity !== null && identity === fileIdentity(file, key) ? { identity, ds: shallowCopy(ds) } : null;
  return ds;
}

function readCacheFile(file: string, key: CacheKey): RawDataset | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null; // no cache yet (or unreadable): the caller rebuilds it
  }
  const header = parseHeader(buf);
  if (!header || header.version !== CACHE_VERSION || JSON.stringify(header.key) !== JSON.stringify(key)) return null;
  const start = PREFIX_BYTES + buf.readUInt32LE(MAGIC.length);
  const total = header.lengths.reduce((a, b) => a + b, 0);
  if (header.lengths.length !== ARRAYS.length || buf.length !== start + total) return null;
  const views: Uint8Array[] = [];
  let offset = buf.byteOffset + start;
  for (const len of header.lengths) {
    views.push(new Uint8Array(buf.buffer, offset, len));
    offset += len;
  }
  const { algorithm, values } = header.checksums ?? { algorithm: 'crc32', values: [] };
  if (algorithm !== preferredChecksum() || views.some((v, i) => checksum(v, algorithm) !== values[i])) return null;
  const [trainX, trainY, testX, testY] = views as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const train: Split = { x: trainX, y: trainY, n: header.counts.train };
  const test: Split = { x: testX, y: testY, n: header.counts.test };
  if (!consistent(train, header.meta) || !consistent(test, header.meta)) return null;
  return { ...header.meta, train, test };
}

function parseHeader(buf: Buffer): Header | null {
  if (buf.length < PREFIX_BYTES || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const len = buf.readUInt32LE(MAGIC.length);
  if (PREFIX_BYTES + len > buf.length) return null;
  try {
    return JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + len)) as Header;
  } catch {
    return null; // corrupt header: treated as a cache miss
  }
}

function consistent(split: Split, meta: Meta): boolean {
  const f = meta.inputShape.reduce((a, b) => a * b, 1);
  return split.y.length === split.n && split.x.length === split.n * f;
}

/**
 * Write atomically: a unique temp file renamed into place, so a concurrent reader sees either the
 * old file, no file, or the whole new one. Failing to write (read-only dir, full disk) is not an
 * error: the cache is only a speed-up and the caller already has the data.
 */
export function writeCache(file: string, key: CacheKey, ds: RawDataset, sha256: Record<string, string> = {}): boolean {
  const { train, test, ...meta } = ds;
  const arrays = [train.x, train.y, test.x, test.y];
  // The file holds bytes (pixels and labels); a dataset of floats is not cached.
  if (!arrays.every((a): a is Uint8Array => a instanceof Uint8Array)) return false;
  const header: Header = {
    version: CACHE_VERSION,
    key,
    meta: { ...meta, spec: key.dataset },
    counts: { train: train.n, test: test.n },
    sha256,
    lengths: arrays.map((a) => a.length),
    checksums: { algorithm: preferredChecksum(), values: arrays.map((a) => checksum(a, preferredChecksum())) },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, MAGIC.length);
  // Random suffix only keeps concurrent writers apart; it is not a modelling choice, so no Rng.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const part of [prefix, json, ...arrays]) writeAll(fd, part);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  // writeSync may write fewer bytes than asked; loop until the whole array is on disk.
  for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}
