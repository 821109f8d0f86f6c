// The README's way to try the system on a local broker: `BUS_URL=kafka://… npm start` (one process,
// embedded store) must give forecasts: the simulated city feeds the broker with readings and
// background forecasts, the ingest worker stores them, batches run. Then SIGTERM stops it cleanly.
// Broker: $KAFKA_BROKERS, or infra/kafka/kafka.sh starts one; without Java the test skips (CI: fails).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { freePort } from '../infra/testing/free-port.ts';
import { kafkaBrokersForTests } from '../infra/testing/kafka-broker.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('npm start on a Kafka broker', () => {
  let brokers: string[] | { skip: string };
  let proc: ChildProcess | undefined;
  let dir = '';
  let output = '';

  before(async () => {
    brokers = await kafkaBrokersForTests();
    dir = mkdtempSync(join(tmpdir(), 'nowcast-kafka-start-'));
  });

  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc!.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives forecasts from the simulated city fed through the broker, and stops on SIGTERM', { timeout: 180_000 }, async (t) => {
    if ('skip' in brokers) return t.skip(brokers.skip);
    const port = await freePort();
    const prefix = `start-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
    proc = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: { ...process.env, BUS_URL: `kafka://${brokers.join(',')}`, TOPIC_PREFIX: prefix, INGEST_GROUP_ID: `${prefix}ingest`, TOPIC_PARTITIONS: '3', PORT: String(port), STORE_URL: join(dir, 'db'), CITY_BBOX: '52.49,13.37,52.53,13.44', BATCH_LAG_MS: '1000', SIM_AMATEUR_SENSORS: '40', SIM_OFFICIAL_STATIONS: '2', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    // A small box (as the roles test uses) keeps the batches light beside the other tests.
    const url = `http://127.0.0.1:${port}/v1/forecast?latitude=52.51&longitude=13.405`;
    const deadline = Date.now() + 150_000;
    let status = 0;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) assert.fail(`npm start exited (${proc.exitCode}):\n${output.slice(-3000)}`);
      try {
        status = (await fetch(url)).status;
        if (status === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.equal(status, 200, `no forecast within 150 s (last status ${status}):\n${output.slice(-3000)}`);
    proc.kill('SIGTERM');
    const code = await new Promise((r) => proc!.once('exit', (c) => r(c)));
    assert.equal(code, 0, output.slice(-3000));
  });
});
