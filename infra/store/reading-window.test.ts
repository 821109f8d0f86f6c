import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inSensorOrder, type ReadingColumns } from './reading-window.ts';

function columns(rows: { id: string; t: number }[]): ReadingColumns {
  return {
    sensorId: rows.map((r) => r.id), official: Uint8Array.from(rows, (r) => (r.id.startsWith('dwd') ? 1 : 0)), timeMs: Float64Array.from(rows, (r) => r.t),
    lat: Float64Array.from(rows, (r) => 52 + r.t / 1e6), lon: Float64Array.from(rows, (r) => 13 + r.id.length / 100), elevationM: Float64Array.from(rows, (r) => (r.t % 3 ? r.t / 1000 : NaN)),
    tempC: Float64Array.from(rows, (r) => r.t / 7), receivedMs: Float64Array.from(rows, (r) => r.t + 5),
  };
}

describe('a window’s readings in sensor order', () => {
  // Ids in code-unit order (byte order for ASCII, as the C collation): uppercase before lowercase, '-' before digits.
  const sorted: { id: string; t: number }[] = [];
  for (const id of ['A-1', 'a-1', 'a-10', 'a-2', 'b', 'dwd-433', 'dwd-433x']) for (const t of [1000, 2000, 35000]) sorted.push({ id, t: t + id.length });

  it('orders shuffled rows by sensor id, then time, every column along', () => {
    let seed = 11;
    const shuffled = sorted.map((r) => ({ r, k: (seed = (seed * 48271) % 2147483647) })).sort((a, b) => a.k - b.k).map((x) => x.r);
    assert.notDeepEqual(shuffled, sorted);
    assert.deepEqual(inSensorOrder(columns(shuffled)), columns(sorted));
  });

  it('answers columns already in order as they are, and empty ones', () => {
    const c = columns(sorted);
    assert.equal(inSensorOrder(c), c);
    const empty = columns([]);
    assert.equal(inSensorOrder(empty), empty);
  });
});
