import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backgroundTempC, createCity, readingInSlot, slotsBetween, trueTempC, LATE_P, DROPOUT_P } from './city.ts';
import { sinSolarElevation } from '../../infra/geo/index.ts';
import { close } from '../../infra/testing/close.ts';

const bbox = { south: 52.35, west: 13.08, north: 52.68, east: 13.76 };
const city = createCity({ seed: 42, bbox, officialStations: 6, amateurSensors: 400, amateurIntervalMs: 300_000 });

describe('simulated city', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = createCity({ seed: 42, bbox, officialStations: 6, amateurSensors: 400, amateurIntervalMs: 300_000 });
    assert.deepEqual(again.sensors, city.sensors);
    const s = city.sensors[10]!;
    assert.deepEqual(readingInSlot(city, s, 5_000_000), readingInSlot(again, s, 5_000_000));
    const other = createCity({ seed: 43, bbox, officialStations: 6, amateurSensors: 400, amateurIntervalMs: 300_000 });
    assert.notDeepEqual(other.sensors[10]!.position, s.position);
  });

  it('puts every sensor and the background grid around the box', () => {
    for (const s of city.sensors) assert.ok(s.position.lat >= bbox.south && s.position.lat <= bbox.north && s.position.lon >= bbox.west && s.position.lon <= bbox.east);
    assert.equal(city.sensors.filter((s) => s.kind === 'official').length, 6);
    assert.ok(city.backgroundPoints.length >= 12);
  });

  it('solar elevation: solstice noon in Berlin is 90 - 52.47 + 23.44 degrees', () => {
    // 2026-06-21, local solar noon at 13.4 E is 12:00 - 13.4/15 h UTC.
    const noon = Date.UTC(2026, 5, 21, 12) - (13.4 / 15) * 3_600_000;
    const expected = Math.sin(((90 - 52.4675 + 23.44) * Math.PI) / 180);
    close(sinSolarElevation({ lat: 52.4675, lon: 13.4 }, noon), expected, { atol: 0.01 }); // day-of-year approximated to within a day
    assert.ok(sinSolarElevation({ lat: 52.4675, lon: 13.4 }, noon + 12 * 3_600_000) < 0); // midnight: below the horizon
  });

  it('has a heat island: the centre is warmer than the edge at night, and the background does not see it', () => {
    const night = Date.UTC(2026, 6, 1, 1);
    const edge = { lat: 52.36, lon: 13.1 };
    const islandK = trueTempC(city, city.centre, night) - trueTempC(city, edge, night);
    const bgK = backgroundTempC(city, city.centre, night) - backgroundTempC(city, edge, night);
    assert.ok(islandK > 1.5, `centre - edge ${islandK}`);
    assert.ok(Math.abs(bgK) < 0.5, `background centre - edge ${bgK}`);
  });

  it('faults behave: indoor ~21 C in winter, sun-exposed warm by day only, stuck constant', () => {
    const day = Date.UTC(2026, 5, 15, 11);
    const night = Date.UTC(2026, 5, 15, 23);
    const byFault = (f: string) => city.sensors.filter((s) => s.fault === f);
    const indoor = byFault('indoor')[0]!;
    const winter = readingInSlot(city, indoor, Math.floor(Date.UTC(2026, 0, 10, 3) / indoor.intervalMs)) ?? readingInSlot(city, indoor, Math.floor(Date.UTC(2026, 0, 10, 3) / indoor.intervalMs) + 1);
    assert.ok(winter && Math.abs(winter.tempC - 21) < 2, `indoor ${winter?.tempC}`);
    let dayExcess = 0, nightExcess = 0, n = 0;
    for (const s of byFault('sun-exposed')) {
      const d = readingInSlot(city, s, Math.floor(day / s.intervalMs));
      const nn = readingInSlot(city, s, Math.floor(night / s.intervalMs));
      if (!d || !nn) continue;
      dayExcess += d.tempC - trueTempC(city, s.position, d.timeMs);
      nightExcess += nn.tempC - trueTempC(city, s.position, nn.timeMs);
      n++;
    }
    assert.ok(dayExcess / n > 1.5, `mean daytime excess ${dayExcess / n}`);
    assert.ok(Math.abs(nightExcess / n) < 0.5, `mean night excess ${nightExcess / n}`);
    const stuck = byFault('stuck')[0]!;
    const a = readingInSlot(city, stuck, Math.floor(day / stuck.intervalMs));
    const b = readingInSlot(city, stuck, Math.floor(day / stuck.intervalMs) + 3);
    if (a && b) assert.equal(a.tempC, b.tempC);
  });

  it('drops and delays readings at the configured rates', () => {
    let total = 0, dropped = 0, late = 0;
    const from = Date.UTC(2026, 2, 1);
    for (const s of city.sensors.filter((x) => x.kind === 'amateur')) {
      for (const slot of slotsBetween(s, from, from + 6 * 3_600_000)) {
        total++;
        const r = readingInSlot(city, s, slot);
        if (!r) dropped++;
        else if (r.deliverAtMs > r.timeMs) late++;
      }
    }
    assert.equal(total, 400 * 72);
    // Binomial standard error at n = 28,800 and p = 0.05 is 0.0013; allow ~4 sigma.
    close(dropped / total, DROPOUT_P, { atol: 0.005 });
    close(late / (total - dropped), LATE_P, { atol: 0.005 });
  });

  it('slotsBetween returns exactly the slots inside [from, to)', () => {
    const s = city.sensors[20]!;
    const from = Date.UTC(2026, 0, 1);
    const slots = slotsBetween(s, from, from + 3_600_000);
    assert.equal(slots.length, 3_600_000 / s.intervalMs);
    for (const k of slots) {
      const t = k * s.intervalMs + s.phaseMs;
      assert.ok(t >= from && t < from + 3_600_000);
    }
  });
});
