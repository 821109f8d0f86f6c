// The Arrow bulk body read in slices: the rows and the first problem do not depend on the slice size,
// and the caller's pause comes between slices (so a server can serve other requests meanwhile).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC, Table, vectorFromArray, Utf8, Float64, TimestampMillisecond } from 'apache-arrow';
import { parseArrowReadings } from './arrow-readings.ts';

const T0 = Date.UTC(2026, 10, 29, 12);
function body(n: number, o: { nullTempAt?: number } = {}): Uint8Array {
  return tableToIPC(new Table({
    station_id: vectorFromArray(Array.from({ length: n }, (_, i) => `st-${i % 3}`), new Utf8()),
    time: vectorFromArray(Array.from({ length: n }, (_, i) => T0 - i * 60_000), new TimestampMillisecond()),
    temperature_2m: vectorFromArray(Array.from({ length: n }, (_, i) => (i === o.nullTempAt ? null : 10 + i / 4)), new Float64()),
    relative_humidity_2m: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : 50 + i)), new Float64()),
  }), 'stream');
}

describe('parseArrowReadings', () => {
  it('gives the same rows whatever the slices, pausing between them', async () => {
    const bytes = body(23);
    const whole = await parseArrowReadings(bytes, 100, async () => assert.fail('no pause in one slice'), 5000);
    assert.ok(whole.ok);
    assert.equal(whole.rows.length, 23);
    assert.deepEqual(whole.rows[5], { stationId: 'st-2', value: { timeMs: T0 - 5 * 60_000, tempC: 11.25, humidityPct: null, pressureHpa: null } });
    assert.deepEqual(whole.rows[6], { stationId: 'st-0', value: { timeMs: T0 - 6 * 60_000, tempC: 11.5, humidityPct: 56, pressureHpa: null } });
    for (const slice of [1, 7, 23]) {
      let pauses = 0;
      const r = await parseArrowReadings(bytes, 100, async () => { pauses++; }, slice);
      assert.deepEqual(r, whole, `slices of ${slice}`);
      assert.equal(pauses, Math.ceil(23 / slice) - 1, `pauses with slices of ${slice}`);
    }
  });

  it('stops at the first problem, named by its row, whatever the slices', async () => {
    const bytes = body(23, { nullTempAt: 15 });
    for (const slice of [1, 7, 5000]) {
      let pauses = 0;
      const r = await parseArrowReadings(bytes, 100, async () => { pauses++; }, slice);
      assert.deepEqual(r, { ok: false, problem: { field: 'temperature_2m[15]', reason: 'missing_temperature', message: 'expected a number [°C]' } });
      assert.equal(pauses, Math.floor(15 / slice), `no slice read after the problem's (slices of ${slice})`);
    }
    const tooMany = await parseArrowReadings(body(23), 22, async () => undefined);
    assert.equal(tooMany.ok, false);
    assert.ok(!tooMany.ok && tooMany.tooLarge);
  });
});
