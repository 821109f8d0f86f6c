import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeReading, encodeReading, decodeReadings, encodeReadings, decodeBackground, readingOf, readingSchema, type Reading } from './reading.ts';
import { uniform } from './sim/random.ts';

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

  it('a message of several readings: the valid kept in order, each bad element refused by its index', () => {
    const second: Reading = { ...good, sensorId: 'ama-2', tempC: -4.25 };
    assert.deepEqual(decodeReadings(encodeReadings([good, second]), now), { readings: [good, second], refused: [] });
    // One reading is sent as a plain object, which a single-reading decoder reads too.
    assert.deepEqual(decodeReading(encodeReadings([good]), now), { ok: true, value: good });
    assert.deepEqual(decodeReadings(encodeReading(good), now), { readings: [good], refused: [] });
    const mixed = decodeReadings(bytes(JSON.stringify([good, { ...good, tempC: 70 }, second, 'x', { ...good, timeMs: now + 3_600_000 }])), now);
    assert.deepEqual(mixed.readings, [good, second]);
    assert.deepEqual(mixed.refused.map((r) => r.index), [1, 3, 4]);
    assert.match(mixed.refused[0]!.reason, /^\[1\]\.tempC:/);
    assert.deepEqual(mixed.refused[0]!.value, { ...good, tempC: 70 }, 'the refused element as it came');
    assert.match(mixed.refused[1]!.reason, /^\[3\]/);
    assert.match(mixed.refused[2]!.reason, /^\[4\]\.timeMs: .* is in the future/);
  });

  it('a message that is no reading at all is refused whole', () => {
    for (const [text, reason] of [['[]', /empty array/], ['{"sensorId":', /not UTF-8 JSON/], ['42', /./], [JSON.stringify({ ...good, lat: 95 }), /^lat:/]] as const) {
      const d = decodeReadings(bytes(text), now);
      assert.deepEqual(d.readings, [], text);
      assert.equal(d.refused.length, 1, text);
      assert.equal(d.refused[0]!.index, null, text);
      assert.match(d.refused[0]!.reason, reason, text);
    }
    assert.throws(() => encodeReadings([]), RangeError);
  });

  it('decodes a background value and refuses a missing field', () => {
    const b = { source: 'sim', pointId: 'p1', lat: 52.4, lon: 13.3, validTimeMs: now, issuedAtMs: now - 3_600_000, tempC: 2 };
    assert.deepEqual(decodeBackground(bytes(JSON.stringify(b))), { ok: true, value: b });
    const d = decodeBackground(bytes(JSON.stringify({ ...b, pointId: undefined })));
    assert.ok(!d.ok && /pointId/.test(d.reason));
  });

  it('the hot-path check gives zod\'s verdict and value on valid, edge and mutated messages', () => {
    // Values at and beyond every bound, of every JSON type, and JSON's own extremes (1e400 parses to Infinity).
    const probes: unknown[] = [
      null, true, 'x', '3', 0, -0, 1, -1, 0.5, 89.999, 90, 90.0000001, -90, -90.1, 180, 180.5, -180, -181, 60, 60.01, -90, 100, 100.1, 300, 299.9, 1100, 1100.1,
      -500, -500.1, 9000, 9000.1, 2 ** 53 - 1, 2 ** 53 + 2, 1e300, JSON.parse('1e400'), JSON.parse('-1e400'), [], {}, [1], 'amateur', 'official', 'Official',
      'a b', 'a'.repeat(64), 'a'.repeat(65), '', 'ok-1.2_3:4', 'ünï', undefined,
    ];
    const fields = ['sensorId', 'timeMs', 'kind', 'lat', 'lon', 'elevationM', 'tempC', 'humidityPct', 'pressureHpa', 'extra'] as const;
    const verdicts = (raw: unknown) => {
      const z = readingSchema.safeParse(raw);
      const ours = readingOf(raw);
      assert.equal(ours !== null, z.success, `verdicts differ on ${JSON.stringify(raw)}: zod ${z.success ? 'accepts' : z.error.issues.map((i) => i.message).join('; ')}`);
      if (z.success) assert.deepEqual(ours, z.data, `values differ on ${JSON.stringify(raw)}`);
      return z.success;
    };
    let accepted = 0;
    let refused = 0;
    for (const f of fields) {
      for (const v of probes) {
        const raw: Record<string, unknown> = { ...good, [f]: v };
        if (v === undefined) delete raw[f];
        if (verdicts(raw)) accepted++;
        else refused++;
        if (verdicts(JSON.parse(JSON.stringify(raw)))) accepted++; // as it comes off the wire
        else refused++;
      }
    }
    // Seeded random messages: each field drawn from the probes or kept, several at once.
    for (let i = 0; i < 4000; i++) {
      const raw: Record<string, unknown> = { ...good };
      fields.forEach((f, k) => {
        const u = uniform(11, i * 37 + k);
        if (u < 0.25) raw[f] = probes[Math.floor(uniform(12, i * 37 + k) * probes.length)];
        if (u > 0.95) delete raw[f];
      });
      if (verdicts(raw)) accepted++;
      else refused++;
    }
    for (const root of [null, [], 'x', 1, [good]]) verdicts(root);
    assert.ok(accepted > 100 && refused > 100, `both verdicts exercised (${accepted} accepted, ${refused} refused)`);
  });
});
