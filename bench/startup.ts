/**
 * `npm run bench -- startup [--json]`: how long `npm start` (the embedded default, a new data
 * directory) takes from process start to the first 200 from /v1/forecast for a point in the city.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../infra/testing/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from './benchmark.ts';

const root = fileURLToPath(new URL('..', import.meta.url));


export const startupBenchmark: Benchmark = {
  description: 'time from npm start to the first forecast',
  async run({ progress }) {
    const dir = mkdtempSync(join(tmpdir(), 'nowcast-startup-'));
    const port = await freePort();
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), STORE_URL: join(dir, 'db'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      let listeningMs: number | undefined;
      while (performance.now() - started < 120_000) {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
        try {
          const r = await fetch(`http://127.0.0.1:${port}/v1/forecast?latitude=52.52&longitude=13.405`);
          listeningMs ??= performance.now() - started;
          if (r.status === 200) {
            const body = (await r.json()) as { current: { temperature_2m: number } };
            const firstForecastMs = performance.now() - started;
            progress(`first forecast after ${firstForecastMs.toFixed(0)} ms: ${body.current.temperature_2m} °C`);
            return { firstForecastMs: Math.round(firstForecastMs), apiListeningMs: Math.round(listeningMs), target: 'under 60000 ms' };
          }
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('no forecast within 120 s');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
