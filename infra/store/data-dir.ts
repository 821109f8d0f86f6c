/**
 * The embedded store's data directory as a place on disk:
 * - before anything is opened it is created when missing and a probe file is written and synced in
 *   it, so an unwritable directory or a full disk is a clear StoreError, not a WASM abort;
 * - a new database is initialised in `<dir>.init` and renamed into place once complete, so a first
 *   start that fails half-way (a full disk, a kill) leaves no half-initialised directory behind;
 * - an abort of the engine while the disk is (nearly) full is named as such.
 */
import { existsSync } from 'node:fs';
import { open, mkdir, readdir, rename, rm, rmdir, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './store-error.ts';

/** Bytes written by the probe: enough that a disk with no room for a page of WAL fails it. */
const PROBE_BYTES = 1 << 20;
/** Free space under which an engine abort is taken for a full disk [bytes]. */
const FULL_BELOW_BYTES = 32 << 20;

/** The StoreError for a failed file operation on `dataDir`. */
export function dataDirError(dataDir: string, err: unknown): StoreError {
  const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new StoreError('STORE_DISK_FULL', `the disk of the data directory ${dataDir} is full (${code}): free space there, or set STORE_URL to a directory with room`, { cause: err });
  }
  return new StoreError('STORE_DIR_UNWRITABLE', `the data directory ${dataDir} cannot be created or written (${message.startsWith(code) ? message : `${code}: ${message}`}): make it writable, or set STORE_URL to a directory that is`, { cause: err });
}

/** Creates `dataDir` when missing and proves it writable (a probe file written, synced, removed). */
export async function prepareDataDir(dataDir: string): Promise<void> {
  const probe = join(dataDir, `.write-probe-${process.pid}`);
  try {
    await mkdir(dataDir, { recursive: true });
    const fh = await open(probe, 'w');
    try {
      await fh.write(Buffer.alloc(PROBE_BYTES));
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw dataDirError(dataDir, err);
  }
  await unlink(probe);
}

/** Whether `dataDir` holds a database (Postgres writes PG_VERSION when it initialises one). */
export function holdsDatabase(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Initialises a new database for `dataDir` in `<dataDir>.init` with `init` (which must close it),
 * then renames it into place. The caller holds the directory's lock. `dataDir` must be empty: a
 * directory with other files is never overwritten.
 */
export async function initialiseDataDir(dataDir: string, init: (dir: string) => Promise<void>): Promise<void> {
  const entries = await readdir(dataDir).catch(() => [] as string[]);
  if (entries.length > 0) {
    throw new StoreError('STORE_DIR_UNWRITABLE', `the data directory ${dataDir} holds files but no database (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', …' : ''}): point STORE_URL at an empty or new directory`);
  }
  const staging = `${dataDir}.init`;
  await rm(staging, { recursive: true, force: true }); // left by a first start that was killed
  try {
    await init(staging);
    await rmdir(dataDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, dataDir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw await diskFullOr(dataDir, err);
  }
}

/** `err` as STORE_DISK_FULL when the data directory's disk has (almost) no room left, else `err` itself. */
export async function diskFullOr(dataDir: string, err: unknown): Promise<unknown> {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return dataDirError(dataDir, err);
  const free = await statfs(dataDir).then((s) => s.bavail * s.bsize, () => null);
  if (free !== null && free < FULL_BELOW_BYTES) {
    return new StoreError('STORE_DISK_FULL', `the disk of the data directory ${dataDir} is full (${Math.round(free / 1024)} KiB free) and the embedded store stopped (${err instanceof Error ? err.message : String(err)}): free space there and start again; what was committed before is kept`, { cause: err });
  }
  return err;
}
