import { describe, it } from 'node:test';
import { biasAtLead } from './bias-persistence.ts';
import { close } from '../../infra/testing/close.ts';

describe('bias persistence baseline', () => {
  it('keeps the bias at lead 0 and halves it after tau ln 2', () => {
    close(biasAtLead(2, 0.5, 0).biasK, 2, { atol: 1e-12 });
    close(biasAtLead(2, 0.5, 0).sigmaK, 0.5, { atol: 1e-12 });
    close(biasAtLead(2, 0.5, 180 * Math.LN2, { tauMin: 180 }).biasK, 1, { rtol: 1e-12 });
  });

  it('sigma tends to the background sigma and is monotone when s0 < sBg', () => {
    close(biasAtLead(1, 0.3, 1e6, { backgroundSigmaK: 2 }).sigmaK, 2, { rtol: 1e-9 });
    let prev = 0;
    for (let l = 0; l <= 60; l += 5) {
      const s = biasAtLead(1, 0.3, l).sigmaK;
      if (!(s >= prev)) throw new Error(`sigma decreased at lead ${l}`);
      prev = s;
    }
    // Closed form at lead tau: var = s0² e^-2 + sBg² (1 - e^-2).
    close(biasAtLead(1, 0.3, 180, { tauMin: 180, backgroundSigmaK: 2 }).sigmaK, Math.sqrt(0.09 * Math.exp(-2) + 4 * (1 - Math.exp(-2))), { rtol: 1e-12 });
  });
});
