/**
 * The baseline next-hour model: the background forecast plus the present bias, which relaxes
 * exponentially toward zero (the background's own error is not persistent forever), with the
 * uncertainty relaxing toward the background's climatological error. Pure.
 *
 *   bias(l)  = b0 * exp(-l / tau)
 *   var(l)   = s0^2 * exp(-2 l / tau) + sBg^2 * (1 - exp(-2 l / tau))
 *
 * This is the reference the BiLSTM smoother has to beat (with persistence and an AR baseline).
 */

export interface BiasPersistenceOptions {
  /** e-folding time of the bias [min]; ~3 h matches how fast mesoscale errors decorrelate. */
  tauMin?: number;
  /** The background's climatological error [K], what sigma tends to at long leads. */
  backgroundSigmaK?: number;
}

export interface LeadForecast {
  biasK: number;
  sigmaK: number;
}

export function biasAtLead(b0K: number, s0K: number, leadMin: number, o: BiasPersistenceOptions = {}): LeadForecast {
  const tau = o.tauMin ?? 180;
  const sBg = o.backgroundSigmaK ?? 2.0;
  const decay = Math.exp(-leadMin / tau);
  return { biasK: b0K * decay, sigmaK: Math.sqrt(s0K * s0K * decay * decay + sBg * sBg * (1 - decay * decay)) };
}

export const BIAS_PERSISTENCE_METHOD = 'baseline-mean-bias+persistence';
