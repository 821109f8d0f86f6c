/**
 * One process per embedded data directory: PGlite takes no lock of its own, and two processes
 * writing one directory corrupt it. The lock is a file beside the directory holding the owner's
 * pid, created exclusively; a lock whose process is gone is taken over.
 */
import { openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'STORE_DIR_LOCKED';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dataDir`; returns its release. Throws DataDirLockedError naming the owner. */
export function lockDataDir(dataDir: string): () => void {
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DataDirLockedError(`the data directory ${dataDir} is in use by process ${owner} (lock file ${path}); one process per embedded store`);
      }
      if (owner === process.pid) throw new DataDirLockedError(`the data directory ${dataDir} is already open in this process`);
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new DataDirLockedError(`could not take the lock ${path}`);
}
