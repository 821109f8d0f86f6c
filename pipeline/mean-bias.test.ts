import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meanBiasByCell, median } from './mean-bias.ts';
import { close } from '../infra/testing/close.ts';

describe('mean bias baseline', () => {
  it('median of odd and even lengths', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('averages each sensor first, then the sensors of a cell', () => {
    const r = meanBiasByCell([
      { sensorId: 'a', cell: 'c1', innovationK: 1 },
      { sensorId: 'a', cell: 'c1', innovationK: 3 }, // sensor a: mean 2
      { sensorId: 'b', cell: 'c1', innovationK: 4 }, // sensor b: 4
      { sensorId: 'c', cell: 'c2', innovationK: -1 },
    ]);
    close(r.cells.get('c1')!.biasK, 3, { atol: 1e-12 }); // (2 + 4) / 2, not (1 + 3 + 4) / 3
    assert.equal(r.cells.get('c1')!.nSensors, 2);
    close(r.cells.get('c2')!.biasK, -1, { atol: 1e-12 });
    assert.equal(r.nSensors, 3);
    close(r.domain.biasK, 2, { atol: 1e-12 }); // median of 2, 4, -1
  });

  it('sigma: spread from the MAD, shrinking with sqrt(n) in a cell, floored', () => {
    // Sensor means -1, 0, 1 (median 0, MAD 1): spread = 1.4826.
    const r = meanBiasByCell([
      { sensorId: 'a', cell: 'c1', innovationK: -1 },
      { sensorId: 'b', cell: 'c1', innovationK: 0 },
      { sensorId: 'c', cell: 'c1', innovationK: 1 },
    ], { sigmaFloorK: 0.3 });
    close(r.domain.sigmaK, Math.hypot(0.3, 1.482602218505602), { rtol: 1e-12 });
    close(r.cells.get('c1')!.sigmaK, Math.hypot(0.3, 1.482602218505602 / Math.sqrt(3)), { rtol: 1e-12 });
  });

  it('with no data the domain bias is 0 with the no-data sigma; NaN innovations are ignored', () => {
    const r = meanBiasByCell([{ sensorId: 'a', cell: 'c', innovationK: NaN }], { noDataSigmaK: 2.5 });
    assert.equal(r.cells.size, 0);
    assert.deepEqual(r.domain, { biasK: 0, sigmaK: 2.5, nSensors: 0 });
  });

  it('the domain median resists a few indoor sensors', () => {
    const xs = Array.from({ length: 20 }, (_, i) => ({ sensorId: `s${i}`, cell: `c${i}`, innovationK: i < 3 ? 18 : 1 + (i % 2) * 0.2 }));
    const r = meanBiasByCell(xs);
    assert.ok(Math.abs(r.domain.biasK - 1.1) < 0.11, `${r.domain.biasK}`);
  });
});
