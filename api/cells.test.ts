// The GeoJSON writer of /v1/cells: its text (valid, canonical JSON; outlines against h3's own
// boundaries, values as the snapshot has them), a turn for other work between its slices, the
// socket's backpressure, and a client that goes away mid-answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { RunColumns } from '../infra/store/index.ts';
import { cellBoundary, cellOf, cellsWithin } from '../infra/geo/index.ts';
import { Snapshot } from './snapshot.ts';
import { FEATURES_PER_SLICE, writeFeatures, type Sink } from './cells.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0);
const cells = cellsWithin(cellOf({ lat: 52.52, lon: 13.405 }, 9), 20).sort(); // 1,261 cells
const STEPS = 13;

function snapshot(): Snapshot {
  const n = cells.length;
  const tempsC = new Float32Array(n * STEPS), sigmasC = new Float32Array(n * STEPS);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < STEPS; k++) {
      tempsC[i * STEPS + k] = i % 50 === 7 ? NaN : -3.14159 + i * 0.013 + k * 0.1;
      sigmasC[i * STEPS + k] = 0.5 + (i % 9) * 0.0371;
    }
  }
  const run: RunColumns = {
    runTimeMs: T0, stepMin: 5, stepsPerCell: STEPS, cells, tempsC, sigmasC, nObs: Int32Array.from(cells, (_, i) => i % 4), newestObsMs: new Float64Array(n).fill(NaN),
    methods: ['kalman-oi', 'kalman-oi+bilstm'], methodIndex: Uint16Array.from(cells, (_, i) => i % 2), hourlyStartMs: new Float64Array(n).fill(NaN), hourlyLength: 0, hourlyTempsC: new Float32Array(0), hourlySigmasC: new Float32Array(0),
  };
  return Snapshot.build(run, { keepPastMs: 0 });
}

/** A writable that records what it was given and in what order with other work. */
function recorder(o: { slow?: boolean } = {}) {
  const chunks: string[] = [];
  const events: string[] = [];
  let writesWhileFull = 0;
  const w = new Writable({
    highWaterMark: o.slow ? 1024 : 1 << 30,
    decodeStrings: false,
    write(chunk: string, _enc, cb) {
      chunks.push(chunk);
      if (o.slow) setImmediate(cb);
      else cb();
    },
    final(cb) {
      events.push('end');
      cb();
    },
  });
  const write = w.write.bind(w);
  const sink = Object.assign(w, {
    write(chunk: string): boolean {
      if (w.writableNeedDrain) writesWhileFull++;
      events.push('write');
      return write(chunk);
    },
  }) as Writable & Sink;
  return { sink, chunks, events, text: () => chunks.join(''), writesWhileFull: () => writesWhileFull };
}

describe('/v1/cells GeoJSON writer', () => {
  const s = snapshot();
  const picked = cells.map((_, i) => i).filter((i) => i % 3 !== 1); // 841 of the 1,261 cells
  const many = [...picked, ...picked, ...picked]; // the same cells again: three slices

  it('writes canonical JSON: the run, the lead, each cell\'s outline (h3, 1e-6°) and values (rounded to 0.01)', async () => {
    const r = recorder();
    await writeFeatures(r.sink, s, picked, 3, 15);
    const text = r.text();
    const body = JSON.parse(text);
    assert.equal(text, JSON.stringify(body), 'the same text as JSON.stringify writes');
    assert.equal(body.type, 'FeatureCollection');
    assert.equal(body.run_time, new Date(T0).toISOString());
    assert.equal(body.lead_min, 15);
    assert.equal(body.features.length, picked.length);
    body.features.forEach((f: any, j: number) => {
      const i = picked[j]!;
      assert.equal(f.type, 'Feature');
      assert.equal(f.geometry.type, 'Polygon');
      const ring: [number, number][] = f.geometry.coordinates[0];
      const h3 = cellBoundary(cells[i]!);
      assert.equal(ring.length, h3.length + 1, 'closed');
      assert.deepEqual(ring[0], ring.at(-1));
      h3.forEach((p, m) => {
        assert.ok(Math.abs(ring[m]![0] - p.lon) <= 1e-6 && Math.abs(ring[m]![1] - p.lat) <= 1e-6, `vertex ${m} of ${cells[i]}`);
      });
      const t = s.run.tempsC[i * STEPS + 3]!, sg = s.run.sigmasC[i * STEPS + 3]!;
      assert.deepEqual(f.properties, {
        cell: cells[i],
        temperature_2m: Number.isNaN(t) ? null : Math.round(t * 100) / 100,
        temperature_2m_sigma: Math.round(sg * 100) / 100,
        lead_min: 15,
        n_obs: i % 4,
        method: i % 2 ? 'kalman-oi+bilstm' : 'kalman-oi',
      });
    });
    assert.ok(body.features.some((f: any) => f.properties.temperature_2m === null), 'a missing value is null');
  });

  it('an empty box is an empty collection', async () => {
    const r = recorder();
    await writeFeatures(r.sink, s, [], 0, 0);
    assert.deepEqual(JSON.parse(r.text()), { type: 'FeatureCollection', run_time: new Date(T0).toISOString(), lead_min: 0, features: [] });
  });

  it('gives other work a turn between slices', async () => {
    assert.ok(many.length > 2 * FEATURES_PER_SLICE);
    const r = recorder();
    let ticking = true;
    const tick = () => {
      r.events.push('tick');
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await writeFeatures(r.sink, s, many, 0, 0);
    ticking = false;
    const writes = r.events.map((e, j) => (e === 'write' ? j : -1)).filter((j) => j >= 0);
    assert.equal(writes.length, 1 + Math.ceil(many.length / FEATURES_PER_SLICE), 'the head, then one write per slice');
    for (let w = 2; w < writes.length; w++) {
      // (the head and the first slice go out together)
      assert.ok(r.events.slice(writes[w - 1]! + 1, writes[w]!).includes('tick'), `other work ran before slice ${w}`);
    }
    assert.equal(JSON.parse(r.text()).features.length, many.length);
  });

  it('waits for a full socket to drain before the next slice', async () => {
    const r = recorder({ slow: true });
    await writeFeatures(r.sink, s, many, 0, 0);
    await new Promise((resolve) => r.sink.on('finish', resolve));
    assert.equal(r.writesWhileFull(), 0, 'nothing written while the sink asked to wait');
    assert.equal(JSON.parse(r.text()).features.length, many.length);
  });

  it('stops when the client goes away, also while it waits for a full socket', async () => {
    for (const slow of [false, true]) {
      const r = recorder({ slow });
      const done = writeFeatures(r.sink, s, many, 0, 0); // the head and the first slice, then a wait
      const written = r.events.filter((e) => e === 'write').length;
      r.sink.destroy();
      await done; // resolves: a closed socket never drains
      assert.equal(written, 2);
      assert.equal(r.events.filter((e) => e === 'write').length, written, `nothing written after the client went away (slow: ${slow})`);
      assert.ok(!r.events.includes('end'));
    }
  });
});
