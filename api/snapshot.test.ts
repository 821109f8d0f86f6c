// The snapshot's values in time (closed forms of linear interpolation), its past, the Web Mercator
// projection against reference values, and the tile rasteriser's no-gap property.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunColumns } from '../infra/store/index.ts';
import { cellOf, cellsCoveringBBox } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { close } from '../infra/testing/close.ts';
import { Snapshot, mercatorX, mercatorY } from './snapshot.ts';
import { medianAt, renderTileIndices } from './tiles.ts';
import { colourOf, DIFFERENCE_SCALE, paletteIndex, paletteRgb, TEMPERATURE_SCALE } from './colour-scale.ts';

const T0 = Date.UTC(2026, 10, 1, 12, 0);

function run(cells: string[], o: { runTimeMs?: number; temp?: (i: number, k: number) => number; hourlyStartMs?: number; hourly?: number[] } = {}): RunColumns {
  const n = cells.length;
  const steps = 13;
  const hl = o.hourly?.length ?? 0;
  const tempsC = new Float32Array(n * steps);
  const sigmasC = new Float32Array(n * steps);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < steps; k++) {
      tempsC[i * steps + k] = o.temp ? o.temp(i, k) : 4 + k / 4;
      sigmasC[i * steps + k] = 0.5 + k / 8;
    }
  }
  const hourlyTempsC = new Float32Array(n * hl);
  const hourlySigmasC = new Float32Array(n * hl).fill(1);
  for (let i = 0; i < n; i++) for (let h = 0; h < hl; h++) hourlyTempsC[i * hl + h] = o.hourly![h]!;
  return {
    runTimeMs: o.runTimeMs ?? T0, stepMin: 5, stepsPerCell: steps, cells, tempsC, sigmasC, nObs: new Int32Array(n), newestObsMs: new Float64Array(n).fill(NaN),
    methods: ['m'], methodIndex: new Uint16Array(n), hourlyStartMs: new Float64Array(n).fill(o.hourlyStartMs ?? NaN), hourlyLength: hl, hourlyTempsC, hourlySigmasC,
  };
}

describe('snapshot', () => {
  const cell = cellOf({ lat: 52.52, lon: 13.405 }, 9);

  it('interpolates the 5-minute steps linearly, then the hourly knots; null across a gap over an hour', () => {
    const s = Snapshot.build(run([cell], { hourlyStartMs: T0 + 2 * HOUR_MS, hourly: [10, 12, NaN, 14] }), { keepPastMs: HOUR_MS });
    // Exact in float32 (quarters, eighths): equality holds to the last bit, so atol 0.
    assert.deepEqual(s.at(0, T0), { tempC: 4, sigmaC: 0.5 });
    const mid = s.at(0, T0 + 150_000)!; // halfway from step 0 (4, 0.5) to step 1 (4.25, 0.625)
    close(mid.tempC, 4.125, { atol: 1e-6 }, 'mid-step temperature'); // float32 sums: 1e-6 K is far below the data's 0.01 K
    close(mid.sigmaC, 0.5625, { atol: 1e-6 }, 'mid-step sigma');
    assert.deepEqual(s.at(0, T0 + HOUR_MS), { tempC: 7, sigmaC: 2 }); // the last minutely step
    close(s.at(0, T0 + 90 * MINUTE_MS)!.tempC, 8.5, { atol: 1e-6 }, 'halfway from 7 (13:00) to 10 (14:00)');
    assert.deepEqual(s.at(0, T0 + 3 * HOUR_MS), { tempC: 12, sigmaC: 1 });
    assert.equal(s.at(0, T0 + 3.5 * HOUR_MS), null, 'next to a missing knot');
    assert.equal(s.at(0, T0 + 5 * HOUR_MS + 1), null, 'beyond the last knot');
    assert.equal(s.at(0, T0 - 5 * MINUTE_MS), null, 'no past yet');
  });

  it('keeps earlier runs\' lead 0 on 15-minute steps as the past, aligned to the new run\'s cells', () => {
    const other = cellOf({ lat: 52.4, lon: 13.2 }, 9);
    const first = Snapshot.build(run([cell], { runTimeMs: T0 - 15 * MINUTE_MS, temp: () => 1 }), { keepPastMs: HOUR_MS });
    const second = Snapshot.build(run([cell], { runTimeMs: T0 - 10 * MINUTE_MS, temp: () => 2 }), { previous: first, keepPastMs: HOUR_MS });
    const third = Snapshot.build(run([other, cell].sort(), { runTimeMs: T0, temp: () => 3 }), { previous: second, keepPastMs: HOUR_MS });
    assert.deepEqual(third.pastTimesMs, [T0 - 15 * MINUTE_MS], 'the 12:10 run is not on a 15-minute step');
    const i = third.index.get(cell)!;
    assert.equal(third.at(i, T0 - 15 * MINUTE_MS)!.tempC, 1);
    assert.equal(third.at(third.index.get(other)!, T0 - 15 * MINUTE_MS), null, 'a cell the earlier run did not have');
    const later = Snapshot.build(run([cell], { runTimeMs: T0 + 2 * HOUR_MS }), { previous: third, keepPastMs: HOUR_MS });
    assert.deepEqual(later.pastTimesMs, [], 'older than keepPastMs: dropped');
  });

  it('projects to Web Mercator as the reference values say', () => {
    assert.equal(mercatorX(0), 0.5);
    assert.equal(mercatorX(-180), 0);
    close(mercatorY(0), 0.5, { atol: 1e-15 }, 'the equator'); // exact up to rounding
    close(mercatorY(85.0511287798066), 0, { atol: 1e-12 }, 'the projection\'s north edge'); // arctan(sinh(π))
    // Berlin (52.52, 13.405) lies in z12 tile x=2200, y=1343 (slippy-map reference formula).
    assert.equal(Math.floor(mercatorX(13.405) * 4096), 2200);
    assert.equal(Math.floor(mercatorY(52.52) * 4096), 1343);
  });

  it('tiles: inside the covered area every pixel is painted (no gaps at any zoom), in the cell\'s colour', () => {
    const box = { south: 52.45, west: 13.3, north: 52.58, east: 13.5 };
    const cells = cellsCoveringBBox(box, 9);
    const s = Snapshot.build(run(cells, { temp: (i) => 5 + (i % 7) }), { keepPastMs: HOUR_MS });
    for (const z of [10, 12, 14, 16]) {
      const x = Math.floor(mercatorX(13.405) * 2 ** z);
      const y = Math.floor(mercatorY(52.52) * 2 ** z);
      const px = renderTileIndices(s, z, x, y, 0)!;
      // Pixels whose centre lies well inside the box (a cell's width from its edge) must all be painted.
      let inside = 0;
      for (let r = 0; r < 256; r++) {
        for (let c = 0; c < 256; c++) {
          const lon = ((x + (c + 0.5) / 256) / 2 ** z) * 360 - 180;
          const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * (y + (r + 0.5) / 256)) / 2 ** z))) * 180) / Math.PI;
          if (lat > box.south + 0.01 && lat < box.north - 0.01 && lon > box.west + 0.01 && lon < box.east - 0.01) {
            inside++;
            assert.notEqual(px[r * 256 + c], 0, `z${z}: a gap at pixel (${c}, ${r})`);
          }
        }
      }
      assert.ok(inside > 1000, `z${z}: ${inside} pixels checked`);
    }
    // At zoom 16 the pixel at Berlin's point has the colour of the cell containing it.
    const z = 16;
    const fx = mercatorX(13.405) * 2 ** z, fy = mercatorY(52.52) * 2 ** z;
    const px = renderTileIndices(s, z, Math.floor(fx), Math.floor(fy), 0)!;
    const i = s.index.get(cellOf({ lat: 52.52, lon: 13.405 }, 9))!;
    assert.equal(px[Math.floor((fy % 1) * 256) * 256 + Math.floor((fx % 1) * 256)], paletteIndex(5 + (i % 7)));
  });

  it('the difference layer: each cell against the median of the cells with a value at that lead, on the -3…+3 K scale', () => {
    const box = { south: 52.50, west: 13.38, north: 52.53, east: 13.43 };
    const cells = cellsCoveringBBox(box, 9);
    // lead 0: 5 + i mod 7, one cell missing; lead 1: every cell 7.5 except the missing one
    const missing = 3;
    const s = Snapshot.build(run(cells, { temp: (i, k) => (i === missing ? NaN : k === 0 ? 5 + (i % 7) : 7.5) }), { keepPastMs: HOUR_MS });
    const values = cells.map((_, i) => 5 + (i % 7)).filter((_, i) => i !== missing).sort((a, b) => a - b);
    const n = values.length;
    const expected = n % 2 === 1 ? values[(n - 1) / 2]! : (values[n / 2 - 1]! + values[n / 2]!) / 2;
    assert.equal(medianAt(s, 0), expected, `median of ${n} values`);
    assert.equal(medianAt(s, 1), 7.5);
    const empty = Snapshot.build(run(cells, { temp: () => NaN }), { keepPastMs: HOUR_MS });
    assert.ok(Number.isNaN(medianAt(empty, 0)), 'no values: no median');
    const z = 16;
    const fx = mercatorX(13.405) * 2 ** z, fy = mercatorY(52.52) * 2 ** z;
    const at = Math.floor((fy % 1) * 256) * 256 + Math.floor((fx % 1) * 256);
    const i = s.index.get(cellOf({ lat: 52.52, lon: 13.405 }, 9))!;
    assert.notEqual(i, missing);
    const diff = renderTileIndices(s, z, Math.floor(fx), Math.floor(fy), 0, 'difference')!;
    assert.equal(diff[at], paletteIndex(5 + (i % 7) - expected, DIFFERENCE_SCALE));
    const flat = renderTileIndices(s, z, Math.floor(fx), Math.floor(fy), 1, 'difference')!;
    assert.ok(flat.every((p) => p === 0 || p === paletteIndex(0, DIFFERENCE_SCALE)), 'equal to the median: the middle colour');
    assert.equal(renderTileIndices(s, z, Math.floor(fx), Math.floor(fy), 0)![at], paletteIndex(5 + (i % 7)), 'the temperature layer unchanged');
  });

  it('colour scales: ends and middle are ColorBrewer anchors, values beyond the ends clamp, both fit an 8-bit palette', () => {
    assert.deepEqual(colourOf(0, DIFFERENCE_SCALE), [0xf7, 0xf7, 0xf7], 'no difference: RdBu\'s middle');
    assert.deepEqual(colourOf(-3, DIFFERENCE_SCALE), [0x05, 0x30, 0x61]);
    assert.deepEqual(colourOf(9, DIFFERENCE_SCALE), [0x67, 0x00, 0x1f], 'beyond +3 K: the warm end');
    assert.deepEqual(colourOf(10, TEMPERATURE_SCALE), [0xff, 0xff, 0xbf], '10 °C: RdYlBu\'s middle');
    assert.equal(paletteIndex(-3, DIFFERENCE_SCALE), 1);
    assert.equal(paletteIndex(3, DIFFERENCE_SCALE), 121, '6 K in steps of 0.05 K');
    assert.equal(paletteIndex(0.024, DIFFERENCE_SCALE), paletteIndex(0, DIFFERENCE_SCALE), 'quantised to the step');
    assert.equal(paletteRgb(DIFFERENCE_SCALE).length, 3 * 122);
    assert.equal(paletteRgb(TEMPERATURE_SCALE).length, 3 * 202);
  });
});
