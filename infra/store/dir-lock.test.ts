import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, DataDirLockedError } from './index.ts';

test('one process per embedded data directory', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'dir-lock-'));
  const dir = join(parent, 'db');
  try {
    // Held by another live process (our parent stands in for it): refused, naming the owner.
    await writeFile(`${dir}.lock`, String(process.ppid));
    await assert.rejects(openStore(dir), (err: unknown) => err instanceof DataDirLockedError && err.message.includes(String(process.ppid)));

    // A stale lock (no such process) is taken over.
    await writeFile(`${dir}.lock`, '2147483646');
    const store = await openStore(dir);
    assert.equal((await readFile(`${dir}.lock`, 'utf8')).trim(), String(process.pid));
    await assert.rejects(openStore(dir), DataDirLockedError, 'a second open in the same process');
    await store.close();
    assert.equal(existsSync(`${dir}.lock`), false, 'released on close');
    const again = await openStore(dir);
    await again.close();
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
