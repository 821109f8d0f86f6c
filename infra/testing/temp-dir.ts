/**
 * Temp folders for tests, removed with everything in them when the test process exits (a test file
 * runs in its own process), so repeated runs leave nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let cleanupHooked = false;

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!cleanupHooked) {
    cleanupHooked = true;
    process.on('exit', () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
  }
  return dir;
}
