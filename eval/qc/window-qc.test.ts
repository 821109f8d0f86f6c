import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../infra/time.ts';
import { DEFAULT_QC } from '../../pipeline/qc/defaults.ts';
import { reasonName } from '../../pipeline/qc/reasons.ts';
import { qcByWindow, type QcReadingsColumns } from './window-qc.ts';

const T0 = Date.UTC(2017, 0, 10, 2); // night: no radiation test

interface Row { id: string; t: number; lat: number; lon: number; z: number; temp: number; official?: boolean }

function columns(rows: Row[]): QcReadingsColumns {
  return {
    sensorId: rows.map((r) => r.id), timeMs: Float64Array.from(rows, (r) => r.t), lat: Float64Array.from(rows, (r) => r.lat), lon: Float64Array.from(rows, (r) => r.lon),
    elevationM: Float64Array.from(rows, (r) => r.z), tempC: Float64Array.from(rows, (r) => r.temp), official: Uint8Array.from(rows, (r) => (r.official ? 1 : 0)),
  };
}

/**
 * 16 amateur sensors on a 4 × 4 grid 400 m apart, one reading per 5-minute window for 3 windows,
 * 10 °C give or take 0.2; and the faults:
 *   hot    40 °C in window 2 (30 K above the window's median: gross)
 *   warm   +5 K in window 2 (a buddy outlier against its neighbours' ~10 °C; not yet a step)
 *   jump   +7 K from window 1 to window 2 (faster than 5 K + 10 K/h: step, seen only with its record)
 *   lonely 20 km away (isolated)
 *   dwd    an official station beside the lonely one (not isolation-checked)
 * Rows are given in reverse time order: the function sorts them.
 */
function fixture(): Row[] {
  const rows: Row[] = [];
  for (let w = 0; w < 3; w++) {
    const t = T0 + w * 5 * MINUTE_MS + 60_000;
    for (let k = 0; k < 16; k++) {
      const id = k === 3 ? 'hot' : k === 6 ? 'warm' : k === 9 ? 'jump' : `s${k}`;
      let temp = 10 + 0.2 * Math.sin(7 * k + w);
      if (w === 1 && id === 'hot') temp = 40;
      if (w === 1 && id === 'warm') temp += 5;
      if (w >= 1 && id === 'jump') temp += 7;
      rows.push({ id, t, lat: 52.5 + 0.0036 * Math.floor(k / 4), lon: 13.4 + 0.0059 * (k % 4), z: 40, temp });
    }
    rows.push({ id: 'lonely', t, lat: 52.68, lon: 13.4, z: 40, temp: 10 });
    rows.push({ id: 'dwd', t, lat: 52.68, lon: 13.402, z: 40, temp: 10.1, official: true });
  }
  return rows.reverse();
}

test('runs the chain window by window in time order, carrying each sensor\'s record', () => {
  const rows = fixture();
  const r = qcByWindow(columns(rows), { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC });
  assert.equal(r.windows, 3);
  assert.equal(r.sensors, 18);
  const reasonOf = (id: string, w: number) => reasonName(r.reason[rows.findIndex((x) => x.id === id && x.t === T0 + w * 5 * MINUTE_MS + 60_000)]!);
  assert.equal(reasonOf('hot', 1), 'gross');
  assert.equal(reasonOf('warm', 1), 'buddy');
  // The step is seen only because window 1's reading is carried into window 2 in the record.
  assert.equal(reasonOf('jump', 1), 'step');
  for (let w = 0; w < 3; w++) assert.equal(reasonOf('lonely', w), 'isolated');
  for (let w = 0; w < 3; w++) assert.equal(reasonOf('dwd', w), 'ok');
  for (const id of ['s0', 's5', 's15']) for (let w = 0; w < 3; w++) assert.equal(reasonOf(id, w), 'ok');
  assert.equal(reasonOf('hot', 0), 'ok');
  assert.equal(reasonOf('warm', 2), 'ok');
});

test('each window on its own has no record: the same jump is then a buddy outlier, not a step', () => {
  const rows = fixture().filter((x) => x.t === T0 + 5 * MINUTE_MS + 60_000);
  const r = qcByWindow(columns(rows), { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC });
  assert.equal(reasonName(r.reason[rows.findIndex((x) => x.id === 'jump')]!), 'buddy');
});

test('a background field replaces the window median; where it has no value, readings get no_background', () => {
  const rows = fixture();
  const warmer = qcByWindow(columns(rows), { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC, background: () => -10 });
  // 20 K below every reading: every reading is a gross error against it.
  assert.ok(Array.from(warmer.reason).every((c) => reasonName(c) === 'gross'));
  const none = qcByWindow(columns(rows), { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC, background: () => NaN });
  assert.equal(none.windowsWithoutBackground, 3);
  assert.ok(Array.from(none.reason).every((c) => reasonName(c) === 'no_background'));
});

test('windows are aligned to multiples of the window length; the empty table is fine', () => {
  const rows = fixture();
  assert.equal(qcByWindow(columns(rows), { windowMs: 15 * MINUTE_MS, qc: DEFAULT_QC }).windows, 1);
  assert.equal(qcByWindow(columns(rows), { windowMs: 2 * MINUTE_MS, qc: DEFAULT_QC }).windows, 3);
  assert.equal(qcByWindow(columns([]), { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC }).windows, 0);
  assert.throws(() => qcByWindow({ ...columns(rows), tempC: new Float64Array(1) }, { windowMs: 5 * MINUTE_MS, qc: DEFAULT_QC }), /timeMs has 54 entries, tempC has 1/);
});
