// Crash-safe file writes for run folders: readers (and a resumed run) see the old file or the new
// one, never a torn half-write. metrics.jsonl is append-only, one line per write.

import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to a temp file beside `path`, fsyncs it, then renames it over `path`. rename is
 * atomic within a directory on POSIX and NTFS, which is why the temp file lives in the same folder.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    try {
      await handle.writeFile(data);
      // Without fsync a crash after rename can leave the new name pointing at empty blocks.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined); // best effort: the original error is what matters
    throw err;
  }
}

/** Pretty JSON (2 spaces, trailing newline) so run files diff and read well; NaN becomes null. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Appends one JSON line. A single write on an O_APPEND descriptor lands as one unit, so concurrent
 * readers never see two records interleaved within a line.
 */
export async function appendJsonl(path: string, value: unknown): Promise<void> {
  const line = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
  const handle = await open(path, 'a');
  try {
    const { bytesWritten } = await handle.write(line);
    if (bytesWritten !== line.length) {
      throw new Error(`short write to ${path}: ${bytesWritten} of ${line.length} bytes`);
    }
  } finally {
    await handle.close();
  }
}
