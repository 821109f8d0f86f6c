// The systemd units of infra/deploy/systemd: systemd's own checker finds no fault in them, their
// hardening keeps the exposure low, they name only settings the product knows, and their commands, run
// with exactly the environment the units give (nothing inherited from this shell), start the
// production topology on a real Kafka broker and TimescaleDB server, serve a forecast, and stop on the
// units' KillSignal within their TimeoutStopSec with exit code 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, SETTING_NAMES } from '../config.ts';
import { PgStore } from '../store/pg-store.ts';
import { freePort } from '../testing/free-port.ts';
import { kafkaBrokersForTests } from '../testing/kafka-broker.ts';
import { freshDatabase, timescaleServerForTests, type FreshDatabase } from '../testing/timescaledb-server.ts';
import { startCommand, tails, waitFor, type RoleProcess } from '../testing/role-process.ts';
import { execStart, parseEnvironmentFile, parseUnit, timeSpanMs, unitEnvironment, unitValue, type Unit } from '../testing/systemd-unit.ts';

const dir = fileURLToPath(new URL('./systemd/', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const SERVICES = [
  { file: 'nowcast-ingest@.service', instance: '1', role: 'ingest' },
  { file: 'nowcast-pipeline@.service', instance: '1', role: 'pipeline' },
  { file: 'nowcast-api@.service', instance: '8080', role: 'api' },
] as const;
const unitOf = (file: string): Unit => parseUnit(readFileSync(join(dir, file), 'utf8'));
const exampleEnv = parseEnvironmentFile(readFileSync(join(dir, 'nowcast.env.example'), 'utf8'));

const analyzer = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const noAnalyzer = analyzer.status === 0 ? undefined : 'systemd-analyze is not installed (infra/deploy/install-systemd-tools.sh installs it)';
if (noAnalyzer && process.env.CI === 'true') throw new Error(`${noAnalyzer} (CI=true: a missing checker is a failure)`);

/** The units as the instances systemd would load (a template cannot be checked by itself), in a temp folder. */
function instances(o: { edit?: (text: string) => string } = {}): { folder: string; files: string[] } {
  const folder = mkdtempSync(join(tmpdir(), 'units-'));
  const files = SERVICES.map((s) => {
    const name = s.file.replace('@.', `@${s.instance}.`);
    writeFileSync(join(folder, name), (o.edit ?? ((t) => t))(readFileSync(join(dir, s.file), 'utf8')));
    return join(folder, name);
  });
  copyFileSync(join(dir, 'nowcast.target'), join(folder, 'nowcast.target'));
  return { folder, files: [...files, join(folder, 'nowcast.target')] };
}

describe('systemd units', () => {
  it('systemd-analyze verify finds nothing to say about any of them', (t) => {
    if (noAnalyzer) return t.skip(noAnalyzer);
    const good = instances();
    const bad = instances({ edit: (text) => text.replace('Restart=on-failure', 'Restrat=on-failure') });
    try {
      const r = spawnSync('systemd-analyze', ['verify', ...good.files], { encoding: 'utf8', cwd: good.folder });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no warning');
      // The check can fail: a misspelt key is only a warning to systemd, and this test refuses it.
      const b = spawnSync('systemd-analyze', ['verify', ...bad.files], { encoding: 'utf8', cwd: bad.folder });
      assert.match(b.stderr, /Unknown key 'Restrat'/);
    } finally {
      rmSync(good.folder, { recursive: true, force: true });
      rmSync(bad.folder, { recursive: true, force: true });
    }
  });

  it('each service is hardened: exposure at most 4.0 in systemd-analyze security', (t) => {
    if (noAnalyzer) return t.skip(noAnalyzer);
    const { folder, files } = instances();
    const bare = instances({ edit: (text) => text.split('# Hardening')[0]! + '\n[Install]\nWantedBy=nowcast.target\n' });
    try {
      for (const f of files.filter((x) => x.endsWith('.service'))) {
        const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=40', '--no-pager', f], { encoding: 'utf8' });
        const level = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1];
        assert.equal(r.status, 0, `${f}: exposure ${level ?? '?'} above 4.0\n${r.stderr}`);
        assert.ok(level !== undefined && Number(level) <= 4, `${f}: exposure ${level}`);
      }
      // Without the hardening block the same unit is above the threshold, so the threshold bites.
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=40', '--no-pager', bare.files[2]!], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      rmSync(bare.folder, { recursive: true, force: true });
    }
  });

  it('they and the example environment set only known settings, and each role\'s configuration loads', () => {
    const npmStart = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start as string;
    for (const name of Object.keys(exampleEnv)) assert.ok(SETTING_NAMES.includes(name), `nowcast.env.example: ${name} is a setting`);
    for (const s of SERVICES) {
      const unit = unitOf(s.file);
      const env = unitEnvironment(unit, s.instance);
      for (const name of Object.keys(env)) assert.ok(SETTING_NAMES.includes(name), `${s.file}: ${name} is a setting`);
      assert.equal(execStart(unit, s.instance).join(' '), npmStart, `${s.file} runs what npm start runs`);
      assert.equal(unitValue(unit, 'Service', 'EnvironmentFile'), '/etc/nowcast/nowcast.env');
      assert.equal(unitValue(unit, 'Service', 'KillSignal'), 'SIGTERM');
      assert.equal(unitValue(unit, 'Install', 'WantedBy'), 'nowcast.target');
      // systemd: variables of the EnvironmentFile override those of Environment=.
      const config = loadConfig({ ...env, ...exampleEnv });
      assert.equal(config.role, s.role);
      if (s.role === 'api') assert.equal(config.port, 8080);
      assert.equal(config.models.threads, 1);
    }
  });
});

const brokers = await kafkaBrokersForTests();
const server = await timescaleServerForTests();
const skip = 'skip' in brokers ? brokers.skip : typeof server !== 'string' ? server.skip : undefined;

describe('systemd units, run', () => {
  let db: FreshDatabase | undefined;
  let probe: PgStore | undefined;
  const procs: RoleProcess[] = [];
  let home = '';

  before(async () => {
    if (skip || typeof server !== 'string' || 'skip' in brokers) return;
    db = await freshDatabase(server, 'units');
    probe = await PgStore.open(db.url, { poolSize: 1 });
    home = mkdtempSync(join(tmpdir(), 'units-home-'));
  });
  after(async () => {
    for (const p of procs) await p.kill();
    await probe?.close();
    await db?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('start the topology, serve a forecast, and stop on SIGTERM within TimeoutStopSec', { timeout: 240_000 }, async (t) => {
    if (skip || !db || !probe || 'skip' in brokers) return t.skip(skip ?? 'no store');
    const apiPort = await freePort();
    const prefix = `units-${Date.now().toString(36)}.`;
    // What systemd gives a service, then the unit's variables, then the file's; then this test's
    // engines and a quick cadence in place of the example's addresses and the five minutes.
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
    const here = {
      BUS_URL: `kafka://${brokers.join(',')}`, STORE_URL: db.url, HOST: '127.0.0.1', LOG_LEVEL: 'warn',
      TOPIC_PREFIX: prefix, INGEST_GROUP_ID: `${prefix}ingest`, TOPIC_PARTITIONS: '3',
      WINDOW_MS: '10000', SIM_AMATEUR_INTERVAL_MS: '10000', REVISIT_MIN_LATE: '1000000',
    };
    const start = (s: (typeof SERVICES)[number], instance: string, extra: Record<string, string> = {}): RoleProcess => {
      const unit = unitOf(s.file);
      const p = startCommand(s.role, execStart(unit, instance), { ...base, ...unitEnvironment(unit, instance), ...exampleEnv, ...here, ...extra });
      procs.push(p);
      return p;
    };
    const ingest = start(SERVICES[0], '1', { SIMULATOR: 'on' });
    await waitFor('background forecasts in the store', async () => {
      const r = await probe!.query<{ n: number }>('SELECT count(*) AS n FROM background');
      return r.rows[0]!.n > 0 ? true : undefined;
    }, { timeoutMs: 90_000, procs });
    const pipeline = start(SERVICES[1], '1');
    const api = start(SERVICES[2], String(apiPort)); // the instance is the port
    const body = await waitFor('a forecast from the api unit', async () => {
      const r = await fetch(`http://127.0.0.1:${apiPort}/v1/forecast?latitude=52.52&longitude=13.405&current=temperature_2m`);
      return r.status === 200 ? ((await r.json()) as { current?: { temperature_2m?: number } }) : undefined;
    }, { timeoutMs: 120_000, procs });
    assert.ok(Number.isFinite(body.current?.temperature_2m), `a temperature now: ${JSON.stringify(body).slice(0, 300)}`);
    for (const [p, s] of [[api, SERVICES[2]], [pipeline, SERVICES[1]], [ingest, SERVICES[0]]] as const) {
      const limitMs = timeSpanMs(unitValue(unitOf(s.file), 'Service', 'TimeoutStopSec')!);
      const t0 = Date.now();
      p.child.kill(unitValue(unitOf(s.file), 'Service', 'KillSignal') as NodeJS.Signals);
      const code = await Promise.race([p.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), limitMs).unref())]);
      assert.equal(code, 0, `${s.role} stopped with ${code} after ${Date.now() - t0} ms (limit ${limitMs} ms)\n${tails([p])}`);
    }
  });
});
