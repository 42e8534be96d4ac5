// Run ids of docs/design.md: `<name>-<yyyymmdd-hhmmss>-<4 random chars>`. Timestamps are UTC so ids
// sort the same on every machine and do not jump at daylight-saving changes.

import { randomInt } from 'node:crypto';

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LENGTH = 4;
/** Keeps ids short enough for paths and terminal tables. */
const MAX_NAME_LENGTH = 64;

/** `<sanitized name>-<yyyymmdd-hhmmss UTC>-<suffix>`; `suffix` defaults to 4 crypto-random chars. */
export function makeRunId(name: string, date: Date = new Date(), suffix: string = randomSuffix()): string {
  return `${sanitizeName(name)}-${formatStamp(date)}-${suffix}`;
}

/** 4 chars of [a-z0-9] from the crypto RNG: 36^4 ≈ 1.7M values per second of start time. */
export function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) out += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return out;
}

/**
 * Keeps [A-Za-z0-9._-], replaces anything else with '-', drops leading dots (a hidden folder would
 * vanish from `ls`), trims to 64 chars; 'run' when nothing is left.
 */
export function sanitizeName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^\.+/, '')
    .slice(0, MAX_NAME_LENGTH);
  return cleaned === '' ? 'run' : cleaned;
}

/** `yyyymmdd-hhmmss` in UTC. */
export function formatStamp(date: Date): string {
  const d = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}`;
  return `${d}-${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/** `yyyymmdd-hhmmss-mmm` in UTC, for names that must differ within one second (eval files). */
export function formatStampMs(date: Date): string {
  return `${formatStamp(date)}-${String(date.getUTCMilliseconds()).padStart(3, '0')}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
