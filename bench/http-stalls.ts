/**
 * `npm run bench -- http-stalls [--rows N] [--stations N] [--values N] [--cells N] [--runs N] [--models-inline] [--json]`:
 * how long the HTTP thread is held by the heaviest requests the API takes, as the longest stall of
 * its event loop (`monitorEventLoopDelay`, 5 ms resolution) during each request, with the request's own
 * time: a partner's Arrow bulk submission of `--rows` readings from `--stations` stations in time order
 * (100,000, the limit; the embedded store and the in-process bus, no ingest worker on this thread, as
 * in the API's processes); a predict request of `--values` values for the BiLSTM (3,900,000, near
 * the limit) through the model thread, or on this thread with `--models-inline` (the way before); and
 * the GeoJSON of a box of about `--cells` cells from /v1/cells (9,500, near its limit of 10,000) out of
 * a run of a whole city's grid (resolution 9, 30,000+ cells). Every other request waits out such a
 * stall. Median over `--runs` after one warm-up each.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createServer, type Server } from 'node:http';
import { tableToIPC, Table, vectorFromArray, Utf8, Float64, TimestampMillisecond } from 'apache-arrow';
import { openStore, writeNowcasts, claimBatchRun, finishBatchRun } from '../infra/store/index.ts';
import { cellAreaM2, cellOf, cellsWithin, EARTH_RADIUS_M } from '../infra/geo/index.ts';
import { openBus } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { loadConfig } from '../infra/config.ts';
import { topicNames, topicSpecs } from '../ingest/index.ts';
import { submissionApp } from '../api/submission-app.ts';
import { listen } from '../api/server.ts';
import { createApp, LiveSnapshot, storeRunSource, modelsModule, ModelThread, registryModelService, type ModelService } from '../api/index.ts';
import { ModelRegistry, SEQUENCE_STEPS, FEATURES, TRAJECTORY_STEPS } from '../models/index.ts';
import { median } from '../pipeline/mean-bias.ts';
import { SHIPPED_MODELS_DIR } from '../system/models.ts';
import type { Benchmark } from './benchmark.ts';

function parse(args: string[]): { rows: number; stations: number; values: number; cells: number; runs: number; inline: boolean } {
  const o = { rows: 100_000, stations: 100, values: 3_900_000, cells: 9_500, runs: 3, inline: false };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === '--models-inline') { o.inline = true; continue; }
    const n = Number(args[++i]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer`);
    if (flag === '--rows') o.rows = n;
    else if (flag === '--stations') o.stations = n;
    else if (flag === '--values') o.values = n;
    else if (flag === '--cells') o.cells = n;
    else if (flag === '--runs') o.runs = n;
    else throw new Error(`unknown option ${flag} (known: --rows N, --stations N, --values N, --cells N, --runs N, --models-inline)`);
  }
  return o;
}

/** The request's time and the longest stall of this thread's event loop while it ran [ms]. */
async function timed(send: () => Promise<Response>): Promise<{ ms: number; stallMs: number; status: number; body: ArrayBuffer }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = performance.now();
  const r = await send();
  const body = await r.arrayBuffer();
  const ms = performance.now() - t0;
  h.disable();
  return { ms, stallMs: h.max / 1e6, status: r.status, body };
}

export const httpStallsBenchmark: Benchmark = {
  description: 'the longest hold of the HTTP thread by a bulk submission, a large prediction and a box of cells',
  async run({ args, progress }) {
    const o = parse(args);
    const log = createLogger('silent');
    const admin = 'bench-admin-token-0123456789';
    const topics = topicNames('stalls.');
    const store = await openStore('memory://', { log });
    const bus = openBus('memory://');
    await bus.ensureTopics(topicSpecs(topics, 3));
    const sub = await listen(submissionApp({ store, bus, readingsTopic: topics.readings, partitionResolution: 5, log, adminToken: admin, limits: { arrowMaxRows: o.rows, registrationsPerHour: o.stations + 10, backlogMs: 7 * 86_400_000 } }), { host: '127.0.0.1', port: 0 });
    const models: ModelService = o.inline ? registryModelService(await ModelRegistry.open(SHIPPED_MODELS_DIR)) : await ModelThread.open({ dir: SHIPPED_MODELS_DIR, logLevel: 'silent' });
    const config = loadConfig({ RATE_LIMIT_PER_MIN: '0' });
    const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: config.api.snapshotPollMs, keepPastMs: config.api.pastKeepMs });
    const app = createApp({ store, bus: { publish: async () => undefined }, log, config, live, modules: [modelsModule(models)] });
    const server: Server = await new Promise((resolve) => { const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s)); });
    const a = server.address();
    const appUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${sub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const partner = (await (await post('/v1/partners', { name: 'bench' }, { authorization: `Bearer ${admin}` })).json()) as { token: string };
      const auth = { authorization: `Bearer ${partner.token}` };
      progress(`registering ${o.stations} stations`);
      const ids: string[] = [];
      for (let i = 0; i < o.stations; i++) ids.push(((await (await post('/v1/stations', { name: `s${i}`, latitude: 52.4 + (i % 10) * 0.02, longitude: 13.2 + Math.floor(i / 10) * 0.03 }, auth)).json()) as { id: string }).id);
      const now = Date.now();
      const arrow = (run: number) => Buffer.from(tableToIPC(new Table({
        station_id: vectorFromArray(Array.from({ length: o.rows }, (_, r) => ids[r % o.stations]!), new Utf8()),
        time: vectorFromArray(Array.from({ length: o.rows }, (_, r) => now - run * 1000 - 60_000 * (1 + Math.floor(r / o.stations))), new TimestampMillisecond()),
        temperature_2m: vectorFromArray(Array.from({ length: o.rows }, (_, r) => 10 + (r % 17) * 0.1), new Float64()),
      }), 'stream'));
      const submits: { ms: number; stallMs: number }[] = [];
      for (let run = 0; run <= o.runs; run++) {
        const body = arrow(run);
        const t = await timed(() => fetch(`${sub.url}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/vnd.apache.arrow.stream', ...auth }, body }));
        if (t.status !== 202) throw new Error(`the submission was answered ${t.status}`);
        progress(`submission of ${o.rows} rows: ${t.ms.toFixed(0)} ms, longest stall ${t.stallMs.toFixed(0)} ms${run === 0 ? ' (warm-up)' : ''}`);
        if (run > 0) submits.push(t);
      }
      const cells = Math.max(1, Math.floor(o.values / (SEQUENCE_STEPS * FEATURES + TRAJECTORY_STEPS)));
      const predictBody = JSON.stringify({ inputs: {
        x: { dims: [SEQUENCE_STEPS, cells, FEATURES], data: Array.from({ length: SEQUENCE_STEPS * cells * FEATURES }, (_, i) => ((i * 7919) % 1000) / 1000) },
        base: { dims: [cells, TRAJECTORY_STEPS], data: Array.from({ length: cells * TRAJECTORY_STEPS }, (_, i) => 10 + (i % 13) * 0.1) },
      } });
      const predicts: { ms: number; stallMs: number }[] = [];
      for (let run = 0; run <= o.runs; run++) {
        const t = await timed(() => fetch(`${appUrl}/v1/models/bilstm/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: predictBody }));
        if (t.status !== 200) throw new Error(`the prediction was answered ${t.status}`);
        progress(`prediction for ${cells} cells: ${t.ms.toFixed(0)} ms, longest stall ${t.stallMs.toFixed(0)} ms${run === 0 ? ' (warm-up)' : ''}`);
        if (run > 0) predicts.push(t);
      }
      progress('writing a run of a city\'s grid');
      const centre = { lat: 52.52, lon: 13.405 };
      const grid = cellsWithin(cellOf(centre, 9), 100);
      const runTimeMs = Math.floor(Date.now() / 300_000) * 300_000;
      await claimBatchRun(store, { windowStartMs: runTimeMs - 300_000, windowEndMs: runTimeMs, method: 'bench', nowMs: runTimeMs, staleMs: 1 });
      await writeNowcasts(store, { runTimeMs, stepMin: 5, method: 'kalman-oi' }, grid.map((cell, i) => ({
        cell, nObs: i % 3, tempsC: Array.from({ length: 13 }, (_, k) => 10 + (i % 97) * 0.05 + k * 0.01), sigmasC: Array.from({ length: 13 }, (_, k) => 0.8 + k * 0.02),
      })));
      await finishBatchRun(store, runTimeMs, { nowMs: runTimeMs + 1000, nReadings: 0, nSensors: 0, nCells: grid.length });
      await live.refresh();
      // A square box around the centre holding about --cells cells.
      const halfSideM = Math.sqrt(o.cells * cellAreaM2(cellOf(centre, 9))) / 2;
      const dLat = (halfSideM / EARTH_RADIUS_M) * (180 / Math.PI), dLon = dLat / Math.cos(centre.lat * (Math.PI / 180));
      const bbox = [centre.lon - dLon, centre.lat - dLat, centre.lon + dLon, centre.lat + dLat].map((x) => x.toFixed(5)).join(',');
      const boxes: { ms: number; stallMs: number }[] = [];
      let boxCells = 0;
      for (let run = 0; run <= o.runs; run++) {
        const t = await timed(() => fetch(`${appUrl}/v1/cells?bbox=${bbox}&lead=30`));
        if (t.status !== 200) throw new Error(`the box was answered ${t.status}`);
        // Read after the timing: this thread is also the server's.
        const n = (JSON.parse(new TextDecoder().decode(t.body)) as { features: unknown[] }).features.length;
        boxCells = n;
        progress(`GeoJSON of ${n} cells of ${grid.length}: ${t.ms.toFixed(0)} ms, longest stall ${t.stallMs.toFixed(0)} ms${run === 0 ? ' (warm-up)' : ''}`);
        if (run > 0) boxes.push(t);
      }
      const r1 = (x: number) => Number(x.toFixed(1));
      return {
        bench: 'http-stalls',
        submit_rows: o.rows,
        submit_stations: o.stations,
        submit_ms: r1(median(submits.map((x) => x.ms))),
        submit_stall_ms: r1(median(submits.map((x) => x.stallMs))),
        predict_values: cells * (SEQUENCE_STEPS * FEATURES + TRAJECTORY_STEPS),
        predict_models: o.inline ? 'inline' : 'model thread',
        predict_ms: r1(median(predicts.map((x) => x.ms))),
        predict_stall_ms: r1(median(predicts.map((x) => x.stallMs))),
        cells_grid: grid.length,
        cells_box: boxCells,
        cells_ms: r1(median(boxes.map((x) => x.ms))),
        cells_stall_ms: r1(median(boxes.map((x) => x.stallMs))),
        runs: o.runs,
      };
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await sub.close(0);
      await models.close();
      await bus.close();
      await store.close();
    }
  },
};
