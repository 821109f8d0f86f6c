// The sharded batch on the embedded store: every cell gets a labelled nowcast; 1 and 3 workers, a
// worker that dies mid-window, and a rerun all give the same nowcasts; bad or missing input still
// gives labelled nowcasts and a ledger entry.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { claimTask, createTasks, getBlobs, latestBatchRun, openStore, openWindow, resetTasks, restartWindow, markRevisit, type Store } from '../infra/store/index.ts';
import { cellOf } from '../infra/geo/index.ts';
import { createLogger } from '../infra/log.ts';
import { FALLBACK_METHOD, FILTER_METHOD, smootherOutcome, type BatchWorker } from './batch.ts';
import { decodeFlags, decodeRecords } from './artefacts.ts';
import { REASON_CODE } from './qc/reasons.ts';
import { backgroundC, nowcastsOf, seedBackground, seedReadings, T0, testDomain, testWorker, WINDOW_MS } from './batch.fixture.ts';
import type { NextHourSmoother } from '../models/index.ts';

const log = createLogger('silent');
const domain = testDomain();

async function runWindow(store: Store, workers: BatchWorker[], end: number) {
  await openWindow(store, { windowStartMs: end - WINDOW_MS, windowEndMs: end, method: FILTER_METHOD, nowMs: Date.now() });
  await createTasks(store, end, domain.plan.shards.map((s) => s.id));
  return Promise.all(workers.map((w) => w.workWindow(end)));
}

async function freshStore(): Promise<Store> {
  const store = await openStore('memory://', { log });
  await seedBackground(store);
  await seedReadings(store, T0 - 3 * WINDOW_MS, T0 + WINDOW_MS);
  return store;
}

describe('sharded batch', () => {
  let one: Store, three: Store, crash: Store;
  const end = T0;

  before(async () => {
    [one, three, crash] = await Promise.all([freshStore(), freshStore(), freshStore()]);
  });
  after(async () => {
    await Promise.all([one, three, crash].map((s) => s?.close()));
  });

  it('the domain has several shards and covers the box edge to edge', () => {
    assert.ok(domain.plan.shards.length >= 3, `${domain.plan.shards.length} shards`);
    // A point at the very corner of the box has a cell in the grid.
    const corner = cellOf({ lat: 52.5, lon: 13.38 }, 9);
    assert.ok(domain.grid.some((g) => g.cell === corner));
  });

  it('one worker: every cell gets a nowcast; the ledger has the counts; flags and records are stored', async () => {
    // QC on the worker's own thread here; the three workers below run it on map threads.
    const [r] = await runWindow(one, [testWorker(one, domain, { mapThreads: 0 })], end - WINDOW_MS); // the window before, so the next has state
    assert.equal(r!.status, 'done');
    const [r2] = await runWindow(one, [testWorker(one, domain, { mapThreads: 0 })], end);
    assert.equal(r2!.status, 'done');
    const rows = (await nowcastsOf(one, end)) as { cell: string; temps_c: number[]; n_obs: number; method: string; hourly_temps_c: number[] | null; newest_obs: number | null }[];
    assert.equal(rows.length, domain.grid.length);
    assert.ok(rows.every((row) => row.method === FILTER_METHOD && row.temps_c.length === 13));
    assert.ok(rows.every((row) => row.hourly_temps_c !== null && row.hourly_temps_c.length >= 1), 'hourly steps where the background reaches');
    const run = await latestBatchRun(one);
    assert.equal(run!.status, 'done');
    assert.equal(run!.nReadings, 60 * 5 + 1); // 60 crowd sensors (s003 included) every minute of the 5-minute window, the official once
    const ledger = await one.query<{ qc: Record<string, number>; shards: number; background: string }>(`SELECT qc, shards, background FROM batch_runs WHERE window_end = $1`, [new Date(end)]);
    assert.equal(ledger.rows[0]!.shards, domain.plan.shards.length);
    assert.equal(ledger.rows[0]!.background, 'full');
    assert.ok(ledger.rows[0]!.qc.ok! > 250, JSON.stringify(ledger.rows[0]!.qc));
    // The stuck-warm sensor s003 is rejected by the spatial checks, every one of its readings with a reason.
    const flags = (await getBlobs(one, end, 'flags')).map((b) => decodeFlags(b.body));
    const s3 = flags.flatMap((f) => f.sensorId.map((id, i) => ({ id, reason: f.reason[i]! }))).filter((x) => x.id === 's003');
    assert.equal(s3.length, 5);
    assert.ok(s3.every((x) => x.reason === REASON_CODE.buddy || x.reason === REASON_CODE.sct || x.reason === REASON_CODE.gross), JSON.stringify(s3));
    const records = (await getBlobs(one, end, 'records')).map((b) => decodeRecords(b.body).records);
    assert.equal(records.reduce((n, m) => n + m.size, 0), 61, 'every sensor (60 crowd + 1 official) has a record in its shard');
    // Near the warm patch the analysis is warmer than the background; the cell of the official station sits near the background.
    const at = (lat: number, lon: number) => rows.find((row) => row.cell === cellOf({ lat, lon }, 9))!;
    assert.ok(at(52.517, 13.415).temps_c[0]! - backgroundC(end) > 1.3, `warm patch: ${at(52.517, 13.415).temps_c[0]}`);
    assert.ok(at(52.517, 13.415).newest_obs! >= end - WINDOW_MS && at(52.517, 13.415).newest_obs! < end);
  });

  it('three workers with two map threads each give the same nowcasts as one on its own thread, sharing the tasks', async () => {
    const ws = ['a', 'b', 'c'].map((id) => testWorker(three, domain, { workerId: id, mapThreads: 2 }));
    try {
      for (const r of await runWindow(three, ws, end - WINDOW_MS)) assert.equal(r.status, 'done');
      for (const r of await runWindow(three, ws, end)) assert.equal(r.status, 'done');
    } finally {
      await Promise.all(ws.map((w) => w.close()));
    }
    const who = await three.query<{ n: number }>(`SELECT count(DISTINCT worker)::int AS n FROM batch_tasks WHERE window_end = $1`, [new Date(end)]);
    assert.ok(who.rows[0]!.n >= 2, `tasks were shared (${who.rows[0]!.n} workers)`);
    assert.deepEqual(await nowcastsOf(three, end), await nowcastsOf(one, end));
  });

  it('a worker that dies mid-window has its task redone by another: same nowcasts', async () => {
    for (const r of await runWindow(crash, [testWorker(crash, domain)], end - WINDOW_MS)) assert.equal(r.status, 'done');
    await openWindow(crash, { windowStartMs: end - WINDOW_MS, windowEndMs: end, method: FILTER_METHOD, nowMs: Date.now() });
    await createTasks(crash, end, domain.plan.shards.map((s) => s.id));
    const dead = await claimTask(crash, { windowEndMs: end, phase: 'map', worker: 'dead', nowMs: Date.now(), leaseMs: 100 });
    assert.ok(dead, 'the dying worker held a map task');
    const [r] = await runWindow(crash, [testWorker(crash, domain, { workerId: 'survivor' })], end);
    assert.equal(r!.status, 'done');
    const task = await crash.query<{ worker: string; attempts: number }>(`SELECT worker, attempts FROM batch_tasks WHERE window_end = $1 AND phase = 'map' AND shard = $2`, [new Date(end), dead.shard]);
    assert.deepEqual(task.rows[0], { worker: 'survivor', attempts: 2 });
    assert.deepEqual(await nowcastsOf(crash, end), await nowcastsOf(one, end));
  });

  it('a rerun of a window gives the same nowcasts', async () => {
    const before = await nowcastsOf(one, end);
    await markRevisit(one, end, 50);
    assert.ok(await restartWindow(one, end, Date.now()));
    await resetTasks(one, end);
    const [r] = await Promise.all([testWorker(one, domain).workWindow(end)]);
    assert.equal(r.status, 'done');
    assert.deepEqual(await nowcastsOf(one, end), before);
  });

  it('a smoother\'s trajectory is stored with its method; a failing smoother leaves the filter\'s', async () => {
    const store = await freshStore();
    try {
      const ok: NextHourSmoother = { name: 'test-smoother', version: '1', smooth: async (i) => i.filter.map((v) => v + 0.5) };
      await runWindow(store, [testWorker(store, domain, { smoother: ok })], end);
      const rows = (await nowcastsOf(store, end)) as { temps_c: number[]; method: string; cell: string }[];
      assert.ok(rows.every((row) => row.method === `${FILTER_METHOD}+test-smoother@1`));
      const run = async (t: number) => (await store.query<{ method: string; smoother: string | null; shards: number }>('SELECT method, smoother, shards FROM batch_runs WHERE window_end = $1', [new Date(t)])).rows[0]!;
      assert.deepEqual(await run(end), { method: `${FILTER_METHOD}+test-smoother@1`, smoother: 'test-smoother@1', shards: 5 });
      const failing: NextHourSmoother = { name: 'broken', version: '2', smooth: async () => { throw new Error('model file missing'); } };
      await runWindow(store, [testWorker(store, domain, { smoother: failing })], end + WINDOW_MS);
      const rows2 = (await nowcastsOf(store, end + WINDOW_MS)) as { method: string }[];
      assert.ok(rows2.every((row) => row.method === FILTER_METHOD));
      // The ledger says so, and the run is not labelled with a model that served nothing.
      assert.deepEqual(await run(end + WINDOW_MS), { method: FILTER_METHOD, smoother: "failed in 5 of 5 shards (the filter's trajectory is served there): broken@2: model file missing", shards: 5 });
    } finally {
      await store.close();
    }
  });

  it('the run\'s smoother outcome: the model where every shard had it, else in how many it failed and the first reason', () => {
    const blob = (shard: string, error: string | null) => ({ shard, body: new TextEncoder().encode(JSON.stringify({ error })) });
    const sm = { name: 'bilstm', version: '1.abc' };
    assert.deepEqual(smootherOutcome(sm, [blob('a', null), blob('b', null)]), { text: 'bilstm@1.abc', failedEverywhere: false });
    assert.deepEqual(smootherOutcome(sm, [blob('a', null), blob('b', 'bilstm@1.abc: out of memory'), blob('c', 'bilstm@1.abc: other')]), { text: "failed in 2 of 3 shards (the filter's trajectory is served there): bilstm@1.abc: out of memory", failedEverywhere: false });
    assert.deepEqual(smootherOutcome(sm, [blob('a', 'x')]), { text: "failed in 1 of 1 shards (the filter's trajectory is served there): x", failedEverywhere: true });
  });

  it('the served trajectory is blended with the one served the window before; a rerun serves the same; none after a failed smoother', async () => {
    const store = await freshStore();
    try {
      // a smoother answering one value per window for every lead, so the blend is computable by hand
      const flat = (v: number): NextHourSmoother => ({ name: 'flat', version: '1', smooth: async (i) => new Float32Array(i.n * i.trajectorySteps).fill(v) });
      const blend = { wMin: 0.5, shape: 'constant' as const };
      const temps = async (at: number) => ((await nowcastsOf(store, at)) as { temps_c: number[]; method: string }[]);
      await runWindow(store, [testWorker(store, domain, { smoother: flat(10), smootherBlend: blend })], end - WINDOW_MS);
      const first = await temps(end - WINDOW_MS);
      // no state before: the smoother's own trajectory (lead 0 the analysis)
      assert.ok(first.every((row) => row.method === `${FILTER_METHOD}+flat@1` && row.temps_c.slice(1).every((v) => v === 10)));
      await runWindow(store, [testWorker(store, domain, { smoother: flat(20), smootherBlend: blend })], end);
      const second = await temps(end);
      // one window (5 min) later: leads 5…55 = .5·20 + .5·10 (the previous trajectory's 10…60 min) = 15; lead 60 had no earlier forecast: 20
      const expected = [...Array(11).fill(15), 20];
      for (const row of second) assert.deepEqual(row.temps_c.slice(1), expected);
      assert.ok(second.every((row, i) => row.temps_c[0] !== 15 && Math.abs(row.temps_c[0]! - (first[i]!.temps_c[0]!)) < 5), 'lead 0 stays the analysis');
      // a rerun of the window reads the same previous state
      await markRevisit(store, end, 50);
      assert.ok(await restartWindow(store, end, Date.now()));
      await resetTasks(store, end);
      assert.equal((await testWorker(store, domain, { smoother: flat(20), smootherBlend: blend }).workWindow(end)).status, 'done');
      assert.deepEqual(await temps(end), second);
      // a failed smoother serves the filter's trajectory, so the window after has nothing to blend with
      const failing: NextHourSmoother = { name: 'flat', version: '1', smooth: async () => { throw new Error('model file missing'); } };
      await runWindow(store, [testWorker(store, domain, { smoother: failing, smootherBlend: blend })], end + WINDOW_MS);
      await runWindow(store, [testWorker(store, domain, { smoother: flat(30), smootherBlend: blend })], end + 2 * WINDOW_MS);
      assert.ok((await temps(end + 2 * WINDOW_MS)).every((row) => row.temps_c.slice(1).every((v) => v === 30)));
    } finally {
      await store.close();
    }
  });
});

describe('the smoother\'s history', () => {
  it('moves on by the clock\'s 5-minute slots with windows shorter than a step (one minute)', async () => {
    const store = await openStore('memory://', { log });
    try {
      await seedBackground(store);
      await seedReadings(store, T0 - 2 * WINDOW_MS, T0 + 3 * WINDOW_MS);
      const minute = WINDOW_MS / 5;
      // per window: each shard's call, keyed by its first cell's place
      const calls = new Map<number, Map<string, { history: Float32Array; lead0: Float32Array }>>();
      const recording: NextHourSmoother = {
        name: 'rec', version: '1',
        smooth: async (i) => {
          const byShard = calls.get(i.runTimeMs) ?? new Map();
          calls.set(i.runTimeMs, byShard);
          byShard.set(`${i.lat[0]},${i.lon[0]}`, { history: i.history.slice(), lead0: Float32Array.from({ length: i.n }, (_, r) => i.filter[r * i.trajectorySteps]!) });
          return i.filter.slice();
        },
      };
      // eleven one-minute windows: T0 … T0 + 10 min, three 5-minute slots
      const ends = Array.from({ length: 11 }, (_, m) => T0 + m * minute);
      for (const end of ends) {
        await openWindow(store, { windowStartMs: end - minute, windowEndMs: end, method: FILTER_METHOD, nowMs: Date.now() });
        await createTasks(store, end, domain.plan.shards.map((s) => s.id));
        assert.equal((await testWorker(store, domain, { windowMs: minute, smoother: recording }).workWindow(end)).status, 'done');
      }
      const H = 24;
      // which of the history's steps hold a value, the same for every cell of every shard of a window
      const pattern = (end: number) => {
        const ps = new Set<string>();
        for (const { history } of calls.get(end)!.values()) {
          for (let r = 0; r < history.length / H; r++) ps.add(Array.from(history.subarray(r * H, (r + 1) * H), (v) => (Number.isNaN(v) ? 0 : 1)).join(''));
        }
        assert.equal(ps.size, 1, `one pattern at ${new Date(end).toISOString()}`);
        return [...ps][0]!;
      };
      // the history handed over ends 5 minutes before lead 0: empty within the first slot, one
      // value once the second slot begins, two in the third
      for (const m of [0, 1, 4]) assert.equal(pattern(ends[m]!), '0'.repeat(H), `window ${m}`);
      for (const m of [5, 9]) assert.equal(pattern(ends[m]!), `${'0'.repeat(H - 1)}1`, `window ${m}`);
      assert.equal(pattern(ends[10]!), `${'0'.repeat(H - 2)}11`, 'window 10');
      // a slot keeps the newest analysis in it: the window at T0 + 4 min's, which differs from T0's
      let differs = 0;
      for (const [shard, { history }] of calls.get(ends[5]!)!) {
        const last = calls.get(ends[4]!)!.get(shard)!.lead0, first = calls.get(ends[0]!)!.get(shard)!.lead0;
        for (let r = 0; r < last.length; r++) {
          assert.equal(history[r * H + H - 1], last[r]);
          if (last[r] !== first[r]) differs++;
        }
      }
      assert.ok(differs > 0, 'the analyses of the slot\'s first and last minute differ somewhere');
    } finally {
      await store.close();
    }
  });
});

describe('batch on bad or missing input', () => {
  it('no background: labelled fallback nowcasts from the readings median, and the ledger says so', async () => {
    const store = await openStore('memory://', { log });
    try {
      await seedReadings(store, T0 - WINDOW_MS, T0);
      const [r] = await runWindow(store, [testWorker(store, domain)], T0);
      assert.equal(r!.status, 'done');
      const rows = (await nowcastsOf(store, T0)) as { method: string; hourly_temps_c: unknown }[];
      assert.equal(rows.length, domain.grid.length);
      assert.ok(rows.every((row) => row.method === FALLBACK_METHOD && row.hourly_temps_c === null));
      const run = await store.query<{ background: string; status: string }>(`SELECT background, status FROM batch_runs WHERE window_end = $1`, [new Date(T0)]);
      assert.deepEqual(run.rows[0], { background: 'none: readings median', status: 'done' });
    } finally {
      await store.close();
    }
  });

  it('no background and no readings: no nowcasts, and a done ledger entry saying why', async () => {
    const store = await openStore('memory://', { log });
    try {
      const [r] = await runWindow(store, [testWorker(store, domain)], T0);
      assert.equal(r!.status, 'done');
      assert.equal((await nowcastsOf(store, T0)).length, 0);
      const run = await store.query<{ background: string; n_cells: number }>(`SELECT background, n_cells FROM batch_runs WHERE window_end = $1`, [new Date(T0)]);
      assert.deepEqual(run.rows[0], { background: 'none, and no readings', n_cells: 0 });
    } finally {
      await store.close();
    }
  });

  it('an empty window with a background: background-only nowcasts everywhere (no observation)', async () => {
    const store = await openStore('memory://', { log });
    try {
      await seedBackground(store);
      await runWindow(store, [testWorker(store, domain)], T0);
      const rows = (await nowcastsOf(store, T0)) as { n_obs: number; temps_c: number[]; method: string }[];
      assert.equal(rows.length, domain.grid.length);
      assert.ok(rows.every((row) => row.n_obs === 0 && row.method === FILTER_METHOD && Math.abs(row.temps_c[0]! - backgroundC(T0)) < 0.011));
    } finally {
      await store.close();
    }
  });
});
