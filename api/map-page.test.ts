// The map page in a real headless browser (Debian's chromium, installed by
// infra/browser/install-chromium.sh, driven by playwright-core): it loads MapLibre from our server,
// draws non-empty tiles, the slider asks for another lead, a click shows the point's chart with
// its sigma band and sources; a link holds the view, and "here" charts the browser's position; with a basemap configured, the page draws it from its own origin (allowed
// by the page's policy) with its attribution. A screenshot goes to .cache/e2e/map.png (git-ignored).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { openStore, type RunColumns, type Store } from '../infra/store/index.ts';
import { cellsInBBox } from '../infra/geo/index.ts';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { createApp } from './app.ts';
import { LiveSnapshot } from './live-snapshot.ts';
import { Snapshot } from './snapshot.ts';
import { decodePalettePng, encodePalettePng } from './png.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A run over the city's centre: a warm core cooling outwards, warming with lead. */
function syntheticRun(runTimeMs: number): RunColumns {
  const cells = cellsInBBox({ south: 52.45, west: 13.25, north: 52.6, east: 13.55 }, 9);
  const n = cells.length;
  const steps = 13;
  const tempsC = new Float32Array(n * steps);
  const sigmasC = new Float32Array(n * steps);
  cells.forEach((_, i) => {
    for (let k = 0; k < steps; k++) {
      tempsC[i * steps + k] = 8 + 4 * Math.sin(i / 97) + k * 0.1;
      sigmasC[i * steps + k] = 0.6 + k * 0.05;
    }
  });
  return {
    runTimeMs, stepMin: 5, stepsPerCell: steps, cells, tempsC, sigmasC, nObs: new Int32Array(n).fill(1),
    newestObsMs: new Float64Array(n).fill(runTimeMs - 2 * MINUTE_MS), methods: ['kalman-oi'], methodIndex: new Uint16Array(n),
    hourlyStartMs: new Float64Array(n).fill(NaN), hourlyLength: 0, hourlyTempsC: new Float32Array(0), hourlySigmasC: new Float32Array(0),
  };
}

describe('the map page in headless chromium', () => {
  const missing = !existsSync(CHROMIUM);
  let store: Store;
  let server: Server;
  let base = '';
  let context: BrowserContext;
  let profile = '';
  let live: LiveSnapshot;

  before(async () => {
    if (missing) return;
    store = await openStore('memory://');
    const now = Date.now();
    live = new LiveSnapshot({ source: { ledger: async () => ({ last: null, lastDone: null }), latestDoneRunTime: async () => null, readRun: async () => null, readPast: async () => [] }, log: createLogger('silent'), pollMs: 60_000, keepPastMs: HOUR_MS });
    live.swap(Snapshot.build(syntheticRun(Math.floor(now / (5 * MINUTE_MS)) * 5 * MINUTE_MS), { keepPastMs: HOUR_MS }));
    const app = createApp({ store, bus: { publish: async () => undefined }, log: createLogger('silent'), config: loadConfig({ RATE_LIMIT_PER_MIN: '0' }), live });
    server = await new Promise((resolve) => {
      const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
    });
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    profile = mkdtempSync(join(tmpdir(), 'nowcast-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1100, height: 800 } });
  });

  after(async () => {
    await context?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    await store?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Without the browser the test is skipped, except in CI, where that is a failure. */
  const withoutBrowser = (t: { skip: (reason: string) => void }): boolean => {
    if (!missing) return false;
    const reason = `${CHROMIUM} is missing: run bash infra/browser/install-chromium.sh`;
    if (process.env.CI === 'true') assert.fail(`${reason} (CI=true: a missing browser is a failure)`);
    t.skip(reason);
    return true;
  };

  it('shows tiles, moves the slider, switches to the difference layer, and a click charts the forecast with its band and sources', { timeout: 120_000 }, async (t) => {
    if (withoutBrowser(t)) return;
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const tiles: { url: string; painted: number }[] = [];
    const pending: Promise<void>[] = [];
    page.on('response', (r) => {
      if (!/\/tiles\/\d+\/\d+\/\d+\.png/.test(r.url()) || r.status() !== 200) return;
      pending.push(r.body().then((b) => {
        tiles.push({ url: r.url(), painted: decodePalettePng(new Uint8Array(b)).indices.filter((i) => i !== 0).length });
      }, () => undefined));
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    const until = async (cond: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!cond() && Date.now() < deadline) {
        await Promise.all(pending);
        if (!cond()) await page.waitForTimeout(100);
      }
      assert.ok(cond(), `${what}; tiles seen: ${tiles.length}; page errors: ${errors.join('; ')}`);
    };
    await until(() => tiles.some((x) => x.painted > 0 && /lead=0/.test(x.url)), 'a non-empty tile at lead 0');

    await page.locator('#lead').fill('30');
    assert.match(await page.locator('#lead-label').innerText(), /\+30 min/);
    await until(() => tiles.some((x) => x.painted > 0 && /lead=30/.test(x.url)), 'a non-empty tile at lead 30 after the slider moved');

    await page.locator('#layer').selectOption('difference');
    await until(() => tiles.some((x) => x.painted > 0 && /lead=30&layer=difference/.test(x.url)), 'a non-empty difference tile after the layer changed');
    assert.match(await page.locator('#legend-unit').innerText(), /K from the median of the covered cells \(-?\d+(\.\d+)? °C\)/);
    assert.deepEqual(await page.locator('#legend-ticks span').allInnerTexts(), ['-3', '-1.8', '-0.6', '+0.6', '+1.8', '+3']);

    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('#chart svg path.band', { timeout: 15_000 });
    assert.equal(await page.locator('#chart svg path.line').count(), 1);
    const sources = await page.locator('#sources').innerText();
    assert.match(sources, /kalman-oi/);
    assert.match(sources, /readings used/);
    mkdirSync(join(root, '.cache', 'e2e'), { recursive: true });
    await page.screenshot({ path: join(root, '.cache', 'e2e', 'map.png') });
    assert.deepEqual(errors, []);
  });

  it('a link holds the view (#zoom/lat/lon; from zoom 13 the cells\' outlines), and "here" charts the browser\'s position', { timeout: 120_000 }, async (t) => {
    if (withoutBrowser(t)) return;
    const page = await context.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const outlines = page.waitForResponse((r) => /\/v1\/cells\?bbox=/.test(r.url()) && r.status() === 200, { timeout: 30_000 });
      await page.goto(`${base}/#14/52.52/13.405`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
      const view = await page.evaluate(() => { const m = (window as unknown as { nowcastMap: { getZoom(): number; getCenter(): { lat: number; lng: number } } }).nowcastMap; return { zoom: m.getZoom(), ...m.getCenter() }; });
      assert.ok(Math.abs(view.zoom - 14) < 1e-6 && Math.abs(view.lat - 52.52) < 1e-4 && Math.abs(view.lng - 13.405) < 1e-4, `the view from the link: ${JSON.stringify(view)}`);
      const asked = await outlines;
      const [w, so, e, n] = new URL(asked.url()).searchParams.get('bbox')!.split(',').map(Number) as [number, number, number, number];
      const cells = (await asked.json()) as { features: unknown[] };
      const expected = cellsInBBox({ west: w, south: so, east: e, north: n }, 9).length; // the run covers the whole view
      assert.ok(expected > 30 && cells.features.length === expected, `${cells.features.length} outlines at zoom 14, ${expected} cells in the view`);
      await page.mouse.move(300, 300);
      await page.mouse.down();
      await page.mouse.move(200, 250, { steps: 5 });
      await page.mouse.up();
      await page.waitForFunction(() => !window.location.hash.endsWith('/52.52/13.405'), undefined, { timeout: 10_000 });
      assert.match(new URL(page.url()).hash, /^#14\/52\.\d+\/13\.\d+$/, 'the address follows the view');

      await context.grantPermissions(['geolocation'], { origin: base });
      await context.setGeolocation({ latitude: 52.4872, longitude: 13.3513 });
      await page.locator('.maplibregl-ctrl-geolocate').click();
      await page.waitForSelector('#chart svg path.band', { timeout: 15_000 });
      assert.equal(await page.locator('#panel-title').innerText(), '52.4872, 13.3513');
      assert.match(await page.locator('#sources').innerText(), /kalman-oi/);
      assert.deepEqual(errors, []);
    } finally {
      await context.clearPermissions();
      await page.close();
    }
  });

  it('draws a configured basemap under the tiles, from the basemap\'s own origin, with its attribution', { timeout: 120_000 }, async (t) => {
    if (withoutBrowser(t)) return;
    // A stand-in tile server on another origin (another port): a grey PNG for every tile, readable cross-origin.
    const grey = encodePalettePng(256, 256, new Uint8Array(256 * 256), Uint8Array.from([200, 200, 200]), Uint8Array.from([255]));
    const asked: string[] = [];
    const tilesServer: Server = await new Promise((resolve) => {
      const s = createServer((req, res) => {
        asked.push(req.url ?? '');
        if (!/^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '')) { res.writeHead(404).end(); return; }
        res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' }).end(grey);
      }).listen(0, '127.0.0.1', () => resolve(s));
    });
    const tp = (tilesServer.address() as { port: number }).port;
    const config = loadConfig({ RATE_LIMIT_PER_MIN: '0', MAP_BASEMAP_URL: `http://127.0.0.1:${tp}/{z}/{x}/{y}.png`, MAP_BASEMAP_ATTRIBUTION: 'Test basemap contributors' });
    const app = createApp({ store, bus: { publish: async () => undefined }, log: createLogger('silent'), config, live });
    const withBase: Server = await new Promise((resolve) => {
      const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
    });
    const page = await context.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) errors.push(m.text()); });
      await page.goto(`http://127.0.0.1:${(withBase.address() as { port: number }).port}/`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
      const deadline = Date.now() + 30_000;
      while (asked.length === 0 && Date.now() < deadline) await page.waitForTimeout(100);
      assert.ok(asked.some((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u)), `basemap tiles asked for: ${asked.slice(0, 5).join(', ')}; errors: ${errors.join('; ')}`);
      assert.match(await page.locator('.maplibregl-ctrl-attrib').innerText(), /Test basemap contributors/);
      assert.match(await page.locator('#legend-base').innerText(), /the configured basemap/);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      withBase.closeAllConnections();
      await new Promise((r) => withBase.close(r));
      tilesServer.closeAllConnections();
      await new Promise((r) => tilesServer.close(r));
    }
  });
});
