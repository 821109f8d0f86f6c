import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildBackgroundField } from './background-field.ts';
import { innovationsOf, nowcastWindow } from './nowcast.ts';
import { close } from '../infra/testing/close.ts';

const H = 3_600_000;
const t0 = Date.UTC(2017, 5, 1, 12);
// A background that is 10 °C everywhere at t0 and warms 1 K per hour.
const field = buildBackgroundField(['a', 'b'].flatMap((pointId, i) => [-1, 0, 1, 2].map((h) => ({
  pointId, lat: 52.3 + 0.4 * i, lon: 13.0 + 0.8 * i, validTimeMs: t0 + h * H, tempC: 10 + h,
}))));
const grid = [
  { cell: 'c1', centre: { lat: 52.5, lon: 13.4 } },
  { cell: 'c2', centre: { lat: 52.4, lon: 13.3 } },
];

describe('nowcast of a window', () => {
  it('maps readings to innovations against the background at their time', () => {
    const inn = innovationsOf({ sensorId: ['s'], cell: ['c1'], timeMs: [t0 - H / 2], lat: [52.5], lon: [13.4], tempC: [11] }, field);
    close(inn[0]!.innovationK, 11 - 9.5, { atol: 1e-9 });
  });

  it('refuses columns of different lengths, naming both', () => {
    assert.throws(() => innovationsOf({ sensorId: ['a', 'b'], cell: ['c'], timeMs: [t0, t0], lat: [1, 1], lon: [1, 1], tempC: [1, 1] }, field), /sensorId has 2, cell has 1/);
  });

  it('observed cells get their own bias, others the domain median, decaying with lead', () => {
    const w = { sensorId: ['s1', 's2', 's3'], cell: ['c1', 'x', 'y'], timeMs: [t0 - 60_000, t0 - 60_000, t0 - 60_000], lat: [52.5, 52.5, 52.5], lon: [13.4, 13.4, 13.4], tempC: [13, 11, 11] };
    const bgAt = 10 - 1 / 60; // background one minute before t0
    const r = nowcastWindow(w, field, grid, { runTimeMs: t0, persistence: { tauMin: 60 } });
    assert.equal(r.cells.length, 2);
    const c1 = r.cells.find((c) => c.cell === 'c1')!;
    const c2 = r.cells.find((c) => c.cell === 'c2')!;
    assert.equal(c1.tempsC.length, 13);
    assert.equal(c1.nObs, 1);
    assert.equal(c2.nObs, 0);
    // Lead 0: background 10 + bias (13 - bgAt); lead 60 min: background 11 + bias * e^-1. Rounded to 0.01.
    close(c1.tempsC[0]!, 10 + (13 - bgAt), { atol: 0.005 });
    close(c1.tempsC[12]!, 11 + (13 - bgAt) * Math.exp(-1), { atol: 0.005 });
    close(c2.tempsC[0]!, 10 + (11 - bgAt), { atol: 0.005 }); // domain median of 3, 1, 1 (+1/60)
    assert.ok(c1.sigmasC[12]! > c1.sigmasC[0]!);
  });
});
