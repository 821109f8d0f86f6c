import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cellAreaM2, cellOf, cellCenter, cellsInBBox, distanceM, parentOf, resolutionOf, inBBox } from './grid.ts';
import { close } from '../testing/close.ts';

describe('grid', () => {
  it('distanceM matches the closed form for a quarter meridian', () => {
    // Pole to equator along a meridian: pi/2 * R exactly.
    const d = distanceM({ lat: 0, lon: 0 }, { lat: 90, lon: 0 });
    close(d, (Math.PI / 2) * 6_371_008.8, { rtol: 1e-12 }); // haversine is exact here up to rounding
  });

  it('distanceM: one degree of longitude at 60 N is half of one at the equator (small-angle)', () => {
    const eq = distanceM({ lat: 0, lon: 0 }, { lat: 0, lon: 0.01 });
    const n60 = distanceM({ lat: 60, lon: 0 }, { lat: 60, lon: 0.01 });
    close(n60 / eq, 0.5, { atol: 1e-6 }); // cos(60°) = 0.5; great-circle vs parallel differ by ~1e-9 at 0.01°
  });

  it('cellOf / parentOf / cellCenter are consistent', () => {
    const p = { lat: 52.4675, lon: 13.4021 };
    const c = cellOf(p, 9);
    assert.equal(resolutionOf(c), 9);
    assert.equal(parentOf(c, 5), cellOf(p, 5));
    // A res-9 cell's centre is within its edge length (~0.2 km) of any point in it.
    assert.ok(distanceM(cellCenter(c), p) < 250);
  });

  it('cellsInBBox covers the box: count ~ area / mean cell area, all centres inside', () => {
    const box = { south: 52.45, west: 13.3, north: 52.5, east: 13.4 };
    const cells = cellsInBBox(box, 9);
    const heightM = distanceM({ lat: box.south, lon: box.west }, { lat: box.north, lon: box.west });
    const widthM = distanceM({ lat: 52.475, lon: box.west }, { lat: 52.475, lon: box.east });
    // Local res-9 cell area (H3 cells at 52 N are ~15 % below the global mean of 0.1053 km²);
    // boundary effects allow ±10 %.
    const local = cellAreaM2(cellOf({ lat: 52.475, lon: 13.35 }, 9));
    assert.ok(local > 0.06e6 && local < 0.15e6, `res-9 cell area ${local} m² outside H3's published range`);
    const expected = (heightM * widthM) / local;
    assert.ok(Math.abs(cells.length - expected) / expected < 0.1, `${cells.length} vs ${expected}`);
    for (const c of cells) assert.ok(inBBox(cellCenter(c), box));
  });
});
