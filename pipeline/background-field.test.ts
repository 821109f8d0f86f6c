import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildBackgroundField, type BackgroundSample } from './background-field.ts';
import { close } from '../infra/testing/close.ts';
import { distanceM } from '../infra/geo/index.ts';

const H = 3_600_000;
const t0 = Date.UTC(2017, 0, 5, 0);
const grid: BackgroundSample[] = [];
for (const [i, lat] of [52.35, 52.6].entries()) {
  for (const [j, lon] of [13.1, 13.35, 13.6].entries()) {
    for (let h = 0; h < 3; h++) grid.push({ pointId: `${i}-${j}`, lat, lon, validTimeMs: t0 + h * H, tempC: 10 * i + j + h });
  }
}
const field = buildBackgroundField(grid);

describe('background field', () => {
  it('returns a grid point value exactly at the point and at a valid time', () => {
    close(field.at({ lat: 52.6, lon: 13.35 }, t0 + H), 10 + 1 + 1, { atol: 1e-12 });
  });

  it('is linear in time between valid times', () => {
    // At a grid point the spatial weights vanish, so the value is (v(h=0) + v(h=1)) / 2 exactly.
    close(field.at({ lat: 52.35, lon: 13.6 }, t0 + H / 2), 2.5, { atol: 1e-12 });
  });

  it('is the inverse-distance-squared mean between points (closed form)', () => {
    const p = { lat: 52.5, lon: 13.2 };
    let ws = 0, vs = 0;
    for (const s of grid.filter((g) => g.validTimeMs === t0)) {
      const w = 1 / distanceM(p, s) ** 2;
      ws += w; vs += w * s.tempC;
    }
    close(field.at(p, t0), vs / ws, { rtol: 1e-12 });
  });

  it('reproduces a constant field everywhere and is NaN beyond the hold time', () => {
    const flat = buildBackgroundField(grid.map((g) => ({ ...g, tempC: 4 })));
    close(flat.at({ lat: 52.47, lon: 13.4 }, t0 + 1.3 * H), 4, { atol: 1e-12 });
    assert.ok(Number.isNaN(flat.at({ lat: 52.47, lon: 13.4 }, t0 + 4 * H)));
    close(flat.at({ lat: 52.47, lon: 13.4 }, t0 - 0.5 * H), 4, { atol: 1e-12 }); // held within an hour
  });

  it('does not interpolate across a hole in the series, only holds each side near it', () => {
    const holey = buildBackgroundField([
      { pointId: 'a', lat: 52.5, lon: 13.4, validTimeMs: t0, tempC: 0 },
      { pointId: 'a', lat: 52.5, lon: 13.4, validTimeMs: t0 + 10 * H, tempC: 10 },
    ]);
    const p = { lat: 52.5, lon: 13.4 };
    close(holey.at(p, t0 + 0.5 * H), 0, { atol: 1e-12 });
    close(holey.at(p, t0 + 9.5 * H), 10, { atol: 1e-12 });
    assert.ok(Number.isNaN(holey.at(p, t0 + 5 * H)));
  });

  it('keeps points of different sources apart even when their ids coincide', () => {
    // Two models each name their point 'p'; merged into one series, the time interpolation would
    // zig-zag between them. Kept apart, the value is the IDW mean of two constant series.
    const two = buildBackgroundField([
      { source: 'm1', pointId: 'p', lat: 52.4, lon: 13.3, validTimeMs: t0, tempC: 0 },
      { source: 'm1', pointId: 'p', lat: 52.4, lon: 13.3, validTimeMs: t0 + H, tempC: 0 },
      { source: 'm2', pointId: 'p', lat: 52.6, lon: 13.5, validTimeMs: t0, tempC: 10 },
      { source: 'm2', pointId: 'p', lat: 52.6, lon: 13.5, validTimeMs: t0 + H, tempC: 10 },
    ]);
    assert.equal(two.points, 2);
    close(two.at({ lat: 52.4, lon: 13.3 }, t0 + H / 2), 0, { atol: 1e-12 });
    close(two.at({ lat: 52.6, lon: 13.5 }, t0 + H / 2), 10, { atol: 1e-12 });
  });

  it('is NaN with no samples', () => {
    assert.ok(Number.isNaN(buildBackgroundField([]).at({ lat: 0, lon: 0 }, t0)));
  });
});
