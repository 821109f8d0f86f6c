import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normal, uniform } from './random.ts';
import { close } from '../../infra/testing/close.ts';

describe('seeded randomness', () => {
  it('is a pure function of its arguments', () => {
    assert.equal(uniform(1, 2, 3), uniform(1, 2, 3));
    assert.notEqual(uniform(1, 2, 3), uniform(1, 2, 4));
    assert.notEqual(uniform(1, 2, 1_700_000_000_000), uniform(1, 2, 1_700_000_000_000 + 2 ** 32));
  });

  it('uniform has mean 1/2 and variance 1/12; normal has mean 0 and variance 1', () => {
    const n = 200_000;
    let su = 0, su2 = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = uniform(7, i);
      const z = normal(7, i);
      su += u; su2 += u * u; sn += z; sn2 += z * z;
    }
    // Standard errors at n = 2e5: mean(U) 6.5e-4, var(U) ~3e-4, mean(Z) 2.2e-3, var(Z) 3.2e-3; 4-5 sigma bounds.
    close(su / n, 0.5, { atol: 3e-3 });
    close(su2 / n - (su / n) ** 2, 1 / 12, { atol: 1.5e-3 });
    close(sn / n, 0, { atol: 1e-2 });
    close(sn2 / n - (sn / n) ** 2, 1, { atol: 1.5e-2 });
  });
});
