import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, editDistance, loadConfig, mistypedSettings, settingDefault, SETTING_NAMES } from './config.ts';

/** The README's configuration table: each variable with the default it states (a `literal`, or words). */
function documentedSettings(): Map<string, string> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('\n## Configuration\n');
  assert.ok(from >= 0, 'the README has a Configuration section');
  const section = readme.slice(from, readme.indexOf('\n## ', from + 5));
  const settings = new Map<string, string>();
  for (const line of section.split('\n')) {
    const row = /^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \| ([^|]*) \|/.exec(line);
    if (!row) continue;
    const names = [...row[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((x) => x[1]!);
    const defaults = row[2]!.split(' / ');
    names.forEach((n, i) => settings.set(n, (names.length === defaults.length ? defaults[i]! : row[2]!).trim()));
  }
  return settings;
}

describe('config', () => {
  it('the README\'s table names every setting, and each default it states as a literal is the code\'s', () => {
    const documented = documentedSettings();
    assert.deepEqual([...documented.keys()].sort(), [...SETTING_NAMES].sort());
    let literals = 0;
    for (const [name, stated] of documented) {
      const d = settingDefault(name);
      const code = d === undefined || d === '' ? undefined : typeof d === 'object' && d !== null ? Object.values(d).join(',') : String(d);
      const literal = /^`([^`]*)`(?: \([^)]*\))?$/.exec(stated)?.[1];
      if (literal !== undefined) {
        assert.equal(code, literal, `${name}: the README says \`${literal}\``);
        literals++;
      } else {
        // Words (none, "the machine's cores", "on for ROLE=all…"): the code has no fixed default either.
        assert.equal(code, undefined, `${name}: the README says '${stated}', the code defaults to ${code}`);
      }
    }
    assert.ok(literals >= 40, `${literals} defaults compared`);
  });

  it('defaults give the embedded demo', () => {
    const c = loadConfig({});
    assert.equal(c.role, 'all');
    assert.equal(c.port, 8080);
    assert.equal(c.store.url, './data/db');
    assert.equal(c.bus.url, 'memory://');
    assert.equal(c.sim.enabled, true);
    assert.equal(c.batch.intervalMs, 300_000); // windows aligned to 5-minute boundaries, in the demo too
    assert.equal(c.batch.windowMs, 300_000);
    assert.equal(c.batch.retentionMs, 3_600_000); // and a short history, so the demo's disk use stays bounded
    assert.deepEqual({ ...c.grid.bbox }, { south: 52.35, west: 13.08, north: 52.68, east: 13.76 });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.store));
  });

  it('WINDOW_MS must tile the day, so windows align to the clock', () => {
    assert.equal(loadConfig({ WINDOW_MS: '60000' }).batch.windowMs, 60_000);
    assert.throws(() => loadConfig({ WINDOW_MS: '7000' }), /WINDOW_MS: must divide a day evenly/);
  });

  it('production roles default to the five-minute batch and no simulator', () => {
    const c = loadConfig({ ROLE: 'pipeline', BUS_URL: 'kafka://127.0.0.1:9092', STORE_URL: 'postgres://u:p@db/nowcast' });
    assert.equal(c.batch.intervalMs, 300_000);
    assert.equal(c.batch.retentionMs, 86_400_000);
    assert.equal(c.sim.enabled, false);
  });

  it('edit distance: insertions, deletions, substitutions and adjacent transpositions each cost 1 (hand-checked cases)', () => {
    assert.equal(editDistance('STORE_URL', 'STORE_URL', 2), 0);
    assert.equal(editDistance('STORE_ULR', 'STORE_URL', 2), 1); // transposition
    assert.equal(editDistance('STOR_URL', 'STORE_URL', 2), 1); // deletion
    assert.equal(editDistance('STORE_URLS', 'STORE_URL', 2), 1); // insertion
    assert.equal(editDistance('STORE_URK', 'STORE_URL', 2), 1); // substitution
    assert.equal(editDistance('kitten', 'sitting', 5), 3); // the textbook Levenshtein example
    assert.equal(editDistance('CA', 'ABC', 5), 3); // optimal string alignment, not unrestricted Damerau (2)
    assert.equal(editDistance('HOME', 'ROLE', 5), 2);
    assert.equal(editDistance('PATH', 'STORE_URL', 2), 3, 'capped: cap + 1 once the distance must exceed it');
  });

  it('warns of variables that look like a mistyped setting, and of nothing else', () => {
    assert.ok(SETTING_NAMES.includes('STORE_URL') && SETTING_NAMES.includes('SUBMIT_PUBLISH_TIMEOUT_MS'));
    const env = {
      STORE_ULR: 'postgres://db/x', store_url: 'x', BUS_UR: 'kafka://k:9092', SUBMIT_PUBLISH_TIMEOUT: '1000',
      STORE_URL: './data/db', HOME: '/root', PATH: '/bin', HOSTNAME: 'h', NODE_ENV: 'production', CI: 'true', TERM: 'xterm', LANG: 'C', USER: 'u', PWD: '/',
    };
    const found = mistypedSettings(env);
    assert.deepEqual(found.map(({ name, meant }) => ({ name, meant })), [
      { name: 'STORE_ULR', meant: 'STORE_URL' },
      { name: 'store_url', meant: 'STORE_URL' },
      { name: 'BUS_UR', meant: 'BUS_URL' },
      { name: 'SUBMIT_PUBLISH_TIMEOUT', meant: 'SUBMIT_PUBLISH_TIMEOUT_MS' }, // 3 letters off, but a time setting without its unit
    ]);
    assert.equal(found[0]!.message, 'STORE_ULR is not a setting and is ignored (did you mean STORE_URL? STORE_URL keeps its own value)');
    assert.equal(found[2]!.message, 'BUS_UR is not a setting and is ignored (did you mean BUS_URL? BUS_URL keeps its default)');
  });

  it('names every bad variable', () => {
    assert.throws(() => loadConfig({ PORT: 'eighty', CITY_BBOX: '1,2,3', SIMULATOR: 'maybe' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /PORT/);
      assert.match(e.message, /CITY_BBOX: expected "south,west,north,east"/);
      assert.match(e.message, /SIMULATOR/);
      return true;
    });
  });

  it('refuses a lone role on the in-process bus or the embedded store', () => {
    assert.throws(() => loadConfig({ ROLE: 'api' }), /needs a shared bus and store/);
    assert.throws(() => loadConfig({ ROLE: 'ingest', BUS_URL: 'kafka://k:9092' }), /needs a shared bus and store/);
  });

  it('bounds the store waits: defaults, overrides, and bad values named', () => {
    const d = loadConfig({});
    assert.equal(d.store.connectTimeoutMs, 10_000);
    assert.equal(d.store.statementTimeoutMs, 60_000);
    const c = loadConfig({ STORE_CONNECT_TIMEOUT_MS: '2500', STORE_STATEMENT_TIMEOUT_MS: '0' });
    assert.equal(c.store.connectTimeoutMs, 2500);
    assert.equal(c.store.statementTimeoutMs, 0, '0: no statement limit');
    assert.throws(() => loadConfig({ STORE_CONNECT_TIMEOUT_MS: '0', STORE_STATEMENT_TIMEOUT_MS: 'soon' }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /STORE_CONNECT_TIMEOUT_MS/, 'a wait without bound is refused');
      assert.match(e.message, /STORE_STATEMENT_TIMEOUT_MS/);
      return true;
    });
  });

  it('model sessions\' onnxruntime threads: the machine\'s cores unless set, 0 for onnxruntime\'s own choice, a bad value named', () => {
    assert.equal(loadConfig({}).models.threads, null);
    assert.equal(loadConfig({ MODEL_THREADS: '3' }).models.threads, 3);
    assert.equal(loadConfig({ MODEL_THREADS: '0' }).models.threads, 0);
    assert.throws(() => loadConfig({ MODEL_THREADS: '-1' }), (e: unknown) => e instanceof ConfigError && /MODEL_THREADS/.test(e.message));
    assert.throws(() => loadConfig({ MODEL_THREADS: 'two' }), (e: unknown) => e instanceof ConfigError && /MODEL_THREADS/.test(e.message));
  });

  it('the map\'s basemap: none by default; an http(s) template with {z}, {x}, {y} and its attribution, both or neither', () => {
    assert.equal(loadConfig({}).api.basemap, null);
    const c = loadConfig({ MAP_BASEMAP_URL: 'https://tile.example.org/{z}/{x}/{y}.png', MAP_BASEMAP_ATTRIBUTION: '© contributors' });
    assert.deepEqual({ ...c.api.basemap }, { url: 'https://tile.example.org/{z}/{x}/{y}.png', attribution: '© contributors', origin: 'https://tile.example.org' });
    for (const bad of ['tile.example.org/{z}/{x}/{y}.png', 'ftp://tile.example.org/{z}/{x}/{y}.png', 'https://tile.example.org/{z}/{x}.png', 'javascript:alert(1)//{z}{x}{y}']) {
      assert.throws(() => loadConfig({ MAP_BASEMAP_URL: bad, MAP_BASEMAP_ATTRIBUTION: 'x' }), (e: unknown) => e instanceof ConfigError && /MAP_BASEMAP_URL/.test(e.message), bad);
    }
    assert.throws(() => loadConfig({ MAP_BASEMAP_URL: 'https://tile.example.org/{z}/{x}/{y}.png' }), (e: unknown) => e instanceof ConfigError && /MAP_BASEMAP_ATTRIBUTION/.test(e.message), 'no attribution');
    assert.throws(() => loadConfig({ MAP_BASEMAP_ATTRIBUTION: '© contributors' }), (e: unknown) => e instanceof ConfigError && /set both or neither/.test(e.message));
  });

  it('refuses a partition resolution not coarser than the grid', () => {
    assert.throws(() => loadConfig({ H3_RESOLUTION: '7', H3_PARTITION_RESOLUTION: '7' }), /coarser/);
  });

  it('refuses an inverted box', () => {
    assert.throws(() => loadConfig({ CITY_BBOX: '52.7,13.08,52.35,13.76' }), /south < north/);
  });

  it('the API\'s settings: defaults, an unknown time zone refused by name', () => {
    const c = loadConfig({});
    assert.deepEqual({ rate: c.api.rateLimitPerMin, tz: c.api.timezone, hops: c.api.trustProxy, poll: c.api.snapshotPollMs }, { rate: 1200, tz: 'Europe/Berlin', hops: 0, poll: 2000 });
    assert.equal(loadConfig({ RATE_LIMIT_PER_MIN: '0', CITY_TIMEZONE: 'America/New_York' }).api.timezone, 'America/New_York');
    assert.throws(() => loadConfig({ CITY_TIMEZONE: 'Mars/Olympus' }), /CITY_TIMEZONE: an IANA time zone/);
    assert.throws(() => loadConfig({ SNAPSHOT_POLL_MS: '5' }), /SNAPSHOT_POLL_MS/);
  });
});
