import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeDomain } from './batch.ts';
import { shardReach } from './shards.ts';

describe('a shard’s halo reach', () => {
  const domain = makeDomain({ south: 52.45, west: 13.2, north: 52.6, east: 13.55 }, 8, 5);
  const reachM = 2500;

  it('holds exactly the points within the reach of one of its cell centres (brute force), inside its box', () => {
    assert.ok(domain.plan.shards.length >= 2, `${domain.plan.shards.length} shards`);
    let inside = 0, outside = 0;
    for (const shard of domain.plan.shards) {
      const reach = shardReach(shard, reachM, domain.plane);
      const cx = shard.cells.map((c) => domain.plane.x(c.centre.lon)), cy = shard.cells.map((c) => domain.plane.y(c.centre.lat));
      for (let i = 0; i < 4000; i++) {
        // A deterministic scatter over the domain and a margin around it.
        const lat = 52.4 + ((i * 7919) % 4000) / 4000 * 0.25, lon = 13.1 + ((i * 104729) % 4001) / 4001 * 0.55;
        const x = domain.plane.x(lon), y = domain.plane.y(lat);
        let nearest = Infinity;
        for (let c = 0; c < cx.length; c++) nearest = Math.min(nearest, Math.hypot(cx[c]! - x, cy[c]! - y));
        // Points within a millimetre of the reach's edge are left out (rounding either way is right).
        if (Math.abs(nearest - reachM) < 1e-3) continue;
        const want = nearest <= reachM;
        assert.equal(reach.contains(lat, lon), want, `shard ${shard.id} at ${lat}, ${lon}: nearest cell centre ${nearest.toFixed(1)} m`);
        if (want) {
          inside++;
          assert.ok(lat >= reach.box.south && lat <= reach.box.north && lon >= reach.box.west && lon <= reach.box.east, 'inside the box');
        } else outside++;
      }
    }
    assert.ok(inside > 1000 && outside > 1000, `${inside} inside, ${outside} outside`);
  });
});
