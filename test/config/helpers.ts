// Throwaway config files for the config tests, and a helper that captures a thrown ConfigError.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../../src/errors.ts';

/** Writes `text` to `<fresh temp dir>/<name>` and returns the path. */
export function writeConfig(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mtl-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs `fn`, asserts it throws a ConfigError, and returns its issues. */
export function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected a ConfigError');
}
