import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeReading, encodeReading, decodeBackground, type Reading } from './reading.ts';

const now = Date.UTC(2026, 0, 1, 12);
const good: Reading = { sensorId: 'ama-1', timeMs: now - 60_000, kind: 'amateur', lat: 52.5, lon: 13.4, elevationM: null, tempC: 3.5, humidityPct: 80, pressureHpa: null };
const bytes = (s: string) => new TextEncoder().encode(s);

describe('reading codec', () => {
  it('round-trips a reading', () => {
    const d = decodeReading(encodeReading(good), now);
    assert.deepEqual(d, { ok: true, value: good });
  });

  it('fills optional fields with null', () => {
    const d = decodeReading(bytes(JSON.stringify({ sensorId: 'x', timeMs: now, kind: 'official', lat: 1, lon: 2, tempC: 0 })), now);
    assert.ok(d.ok);
    assert.equal(d.value.elevationM, null);
    assert.equal(d.value.humidityPct, null);
  });

  // Each bad record is refused with a reason naming the field.
  const cases: [string, string, RegExp][] = [
    ['not json', '{"sensorId":', /not UTF-8 JSON/],
    ['latitude out of range', JSON.stringify({ ...good, lat: 95 }), /^lat:/],
    ['temperature above the world record', JSON.stringify({ ...good, tempC: 70 }), /^tempC:/],
    ['temperature as a string', JSON.stringify({ ...good, tempC: '3' }), /^tempC:/],
    ['unknown kind', JSON.stringify({ ...good, kind: 'satellite' }), /^kind:/],
    ['bad sensor id', JSON.stringify({ ...good, sensorId: 'a b' }), /^sensorId:/],
    ['time in the future', JSON.stringify({ ...good, timeMs: now + 3_600_000 }), /in the future/],
    ['missing time', JSON.stringify({ ...good, timeMs: undefined }), /^timeMs:/],
  ];
  for (const [name, text, reason] of cases) {
    it(`refuses ${name}`, () => {
      const d = decodeReading(bytes(text), now);
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.reason, reason);
    });
  }

  it('refuses invalid UTF-8', () => {
    const d = decodeReading(new Uint8Array([0xff, 0xfe, 0x7b]), now);
    assert.equal(d.ok, false);
  });

  it('decodes a background value and refuses a missing field', () => {
    const b = { source: 'sim', pointId: 'p1', lat: 52.4, lon: 13.3, validTimeMs: now, issuedAtMs: now - 3_600_000, tempC: 2 };
    assert.deepEqual(decodeBackground(bytes(JSON.stringify(b))), { ok: true, value: b });
    const d = decodeBackground(bytes(JSON.stringify({ ...b, pointId: undefined })));
    assert.ok(!d.ok && /pointId/.test(d.reason));
  });
});
