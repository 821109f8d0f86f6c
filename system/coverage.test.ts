// Every point inside the covered box has its cell in the batch's grid, including points near the
// edge whose cell's centre lies outside the box (those once got NOT_READY forever).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cellCenter, cellOf, inBBox } from '../infra/geo/index.ts';
import { loadConfig } from '../infra/config.ts';
import { domainGrid } from '../pipeline/index.ts';

describe('the domain grid covers the box', () => {
  it('every point along the edges and corners of the default box falls in a grid cell', () => {
    const { bbox: b, resolution } = loadConfig({}).grid;
    const grid = new Set(domainGrid(b, resolution).map((g) => g.cell));
    const points: { lat: number; lon: number }[] = [];
    const n = 500;
    for (let i = 0; i <= n; i++) {
      const lon = b.west + ((b.east - b.west) * i) / n;
      const lat = b.south + ((b.north - b.south) * i) / n;
      points.push({ lat: b.south, lon }, { lat: b.north, lon }, { lat, lon: b.west }, { lat, lon: b.east });
    }
    const missing = points.filter((p) => !grid.has(cellOf(p, resolution)));
    assert.deepEqual(missing, []);
    const outsideCentres = points.filter((p) => !inBBox(cellCenter(cellOf(p, resolution)), b));
    assert.ok(outsideCentres.length > 100, `the case is exercised: ${outsideCentres.length} edge points lie in cells centred outside`);
  });
});
