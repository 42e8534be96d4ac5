// Checksums of a folder's files (checkpoints): manifest.json lists each file's size and sha256 when
// it is written, and every load checks them, so a truncated or bit-flipped file is an error naming
// the file (exit 3) instead of a model with silently wrong weights.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityError } from '../errors.ts';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'mtl-manifest/1';

export interface FileDigest {
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof FORMAT;
  files: Record<string, FileDigest>;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The manifest of files held in memory, by file name. */
export function manifestOf(files: Record<string, string | Uint8Array>): Manifest {
  const out: Record<string, FileDigest> = {};
  for (const [name, data] of Object.entries(files)) {
    out[name] = {
      bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
      sha256: sha256Hex(data),
    };
  }
  return { format: FORMAT, files: out };
}

/** Reads `dir`'s manifest; null when there is none (a folder written before manifests, or by another tool). */
export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  let value: Manifest;
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new IntegrityError(`checkpoint manifest ${path} is damaged: ${(err as Error).message}`, path);
  }
  if (value?.format !== FORMAT || typeof value.files !== 'object' || value.files === null) {
    throw new IntegrityError(`checkpoint manifest ${path} is damaged: not an ${FORMAT} document`, path);
  }
  return value;
}

/**
 * Checks every file the manifest lists (size, then sha256); throws IntegrityError naming the first
 * bad file. Returns false when the folder has no manifest (nothing to check against), true when verified.
 */
export function verifyManifest(dir: string): boolean {
  const manifest = readManifest(dir);
  if (!manifest) return false;
  for (const [name, want] of Object.entries(manifest.files)) verifyFile(join(dir, name), want);
  return true;
}

function verifyFile(path: string, want: FileDigest): void {
  if (!existsSync(path)) throw new IntegrityError(`checkpoint file ${path} is missing (listed in its manifest)`, path);
  const data = readFileSync(path);
  if (data.byteLength !== want.bytes) {
    const how = data.byteLength < want.bytes ? 'truncated' : 'longer than written';
    throw new IntegrityError(
      `checkpoint file ${path} is damaged: ${how} (${data.byteLength} bytes, the manifest says ${want.bytes})`,
      path,
    );
  }
  const got = sha256Hex(data);
  if (got !== want.sha256) {
    throw new IntegrityError(
      `checkpoint file ${path} is damaged: sha256 ${got.slice(0, 12)}… does not match the manifest's ${want.sha256.slice(0, 12)}…`,
      path,
    );
  }
}
