// Checkpoint manifests: every file's size and sha256 are checked on load, and a damaged file is an
// IntegrityError (exit 3) that names it; a folder without a manifest (another tool's) still loads.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IntegrityError } from '../../src/errors.ts';
import { MANIFEST_FILE, manifestOf, verifyManifest } from '../../src/runs/manifest.ts';

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-manifest-'));
  const files = { 'weights.bin': new Uint8Array(4096).map((_, i) => i % 251), 'model.json': '{"a":1}' };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifestOf(files)));
  return dir;
}

function integrityError(fn: () => unknown): IntegrityError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof IntegrityError, String(err));
    assert.equal(err.exitCode, 3);
    return err;
  }
  assert.fail('expected an IntegrityError');
}

test('an intact folder verifies; one without a manifest is reported as unverified, not as damaged', () => {
  const dir = folder();
  assert.equal(verifyManifest(dir), true);
  rmSync(join(dir, MANIFEST_FILE));
  assert.equal(verifyManifest(dir), false);
});

test('a flipped bit, a truncated file, a missing file and a garbled manifest are each named', () => {
  const dir = folder();
  const weights = join(dir, 'weights.bin');
  const bytes = readFileSync(weights);
  bytes[1000]! ^= 0x10;
  writeFileSync(weights, bytes);
  let err = integrityError(() => verifyManifest(dir));
  assert.equal(err.path, weights);
  assert.match(err.message, /weights\.bin is damaged: sha256 .* does not match/);

  truncateSync(weights, 100);
  err = integrityError(() => verifyManifest(dir));
  assert.match(err.message, /weights\.bin is damaged: truncated \(100 bytes, the manifest says 4096\)/);

  rmSync(weights);
  err = integrityError(() => verifyManifest(dir));
  assert.match(err.message, /weights\.bin is missing/);

  writeFileSync(join(dir, MANIFEST_FILE), '{"format":');
  err = integrityError(() => verifyManifest(dir));
  assert.equal(err.path, join(dir, MANIFEST_FILE));
});
