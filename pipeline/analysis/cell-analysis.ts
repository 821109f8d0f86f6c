/**
 * The reduce step of a window: from the sensors that passed QC to each cell's bias estimate (truth −
 * background) and its uncertainty, in two scales and in time.
 *
 * 1. Large scale. The crowd's median innovation (after each sensor's learned offset) says how wrong
 *    the background is over the whole area now, but crowd sensors share a systematic error (siting,
 *    sun, their own housing: σ_rep) that an area-wide average cannot remove. So it enters as an
 *    observation of the large-scale bias with variance σ_rep² (+ its sampling error), official
 *    stations with their own small errors plus the local variability they sample, and the prior is 0
 *    with the background's error σ_B²: the precision-weighted estimate g (shrunk toward the background
 *    by σ_B²/(σ_B² + σ_rep²) when the crowd alone speaks).
 * 2. Small scale. The sensors' increments over g are spread by localised optimal interpolation with a
 *    short Barnes length scale (the scale of the urban heat island: streets, parks), at most
 *    `maxPoints` per cell, with increments bounded by the observed ones. A cell far from any sensor
 *    keeps g: the crowd's local warmth stays where the crowd is.
 * 3. Time. Each cell's Kalman state, which relaxes toward 0 between windows, is updated twice per
 *    window: the area's parts with g (variance var(g)), the place's parts with the increment (variance
 *    σ_S² · the OI variance ratio). The state is the bias in parts with their own time scales
 *    (kalman.ts, BiasModel): the area's error, passing in hours and lasting over a day, and the
 *    place's own offset, lasting most of a day, with its diurnal cycle. A cell far from any sensor
 *    learns no offset of its own, so the crowd's daily cycle stays where the crowd is.
 * Pure: state and observations in, state out.
 */
import { optimalInterpolation, type PlanePoints } from './oi.ts';
import type { BarnesStructure } from './structure.ts';
import { packedIndex, packedSize, partsPrior, partsTotal, predictParts, regressorsAt, updateParts, type BiasModel, type BiasState, type PartsState } from './kalman.ts';

export interface AnalysisOptions {
  /** The background's large-scale error σ_B [K]. */
  backgroundSigmaK: number;
  /** The crowd's shared (systematic) representativeness error σ_rep [K]. */
  crowdSharedSigmaK: number;
  /** Small-scale (sub-grid of the background) variability σ_S [K]: the prior of the local increments. */
  localSigmaK: number;
  /** One amateur sensor's own error after its offset is removed [K]. */
  amateurSigmaK: number;
  /** One official station's error [K]. */
  officialSigmaK: number;
  /** Correlation of the local increments. */
  structure: BarnesStructure;
  maxPoints: number;
  /** The bias's parts and their relaxation in time (kalman.ts). */
  process: BiasModel;
  /** Learned sensor offsets count in proportion to their weight: offset × w / (w + offsetPriorWeight). */
  offsetPriorWeight: number;
  /** Reliability weights below this count as this (so a failing sensor's error grows by at most 1/minWeight). */
  minReliability: number;
}

export interface AnalysisObservations extends PlanePoints {
  innovationK: Float64Array;
  /** 1 for official stations. */
  official: Uint8Array;
  /** Learned offset [K] and its weight (0..1); 0 for official stations. */
  offsetK: Float64Array;
  offsetWeight: Float64Array;
  /** Reliability (0..1]. */
  reliability: Float64Array;
  /** Time of the sensor's newest reading [epoch ms]. */
  newestMs: Float64Array;
}

/** The window-wide summary of the large scale, mergeable across shards (see LargeScaleInput). */
export interface LargeScaleInput {
  /** Median and MAD of the amateur sensors' offset-corrected innovations [K], and their number. */
  crowdMedianK: number;
  crowdMadK: number;
  crowdN: number;
  /** Mean of the official stations' innovations [K] and their number. */
  officialMeanK: number;
  officialN: number;
}

export interface LargeScale {
  biasK: number;
  varK2: number;
}

/** Normal-consistent scale of a MAD (1 / Φ⁻¹(3/4)). */
const MAD_TO_SIGMA = 1.482602218505602;

export function largeScaleBias(s: LargeScaleInput, o: AnalysisOptions): LargeScale {
  let precision = 1 / (o.backgroundSigmaK * o.backgroundSigmaK);
  let weighted = 0;
  if (s.crowdN > 0 && Number.isFinite(s.crowdMedianK)) {
    // The median's sampling variance (π/2 σ²/n for normal data) plus the shared error.
    const spread = MAD_TO_SIGMA * (Number.isFinite(s.crowdMadK) ? s.crowdMadK : 0);
    const v = o.crowdSharedSigmaK * o.crowdSharedSigmaK + (Math.PI / 2) * (spread * spread) / s.crowdN;
    precision += 1 / v;
    weighted += s.crowdMedianK / v;
  }
  if (s.officialN > 0) {
    // Each station samples the small scale too: that is error for the large-scale estimate.
    const v = (o.localSigmaK * o.localSigmaK + o.officialSigmaK * o.officialSigmaK) / s.officialN;
    precision += 1 / v;
    weighted += s.officialMeanK / v;
  }
  return { biasK: weighted / precision, varK2: 1 / precision };
}

/** The offset-corrected innovation of observation i [K]. */
export function correctedInnovation(obs: AnalysisObservations, i: number, o: AnalysisOptions): number {
  if (obs.official[i]) return obs.innovationK[i]!;
  const w = obs.offsetWeight[i]!;
  return obs.innovationK[i]! - (obs.offsetK[i]! * w) / (w + o.offsetPriorWeight);
}

/**
 * Each cell's filter state (see PartsState), column-wise: meanK[i][c] is part i of cell c, covK2[k][c]
 * packed covariance entry k. A cell whose part i has a NaN variance has no state for it (a state
 * written by a model with fewer parts): that part starts at its prior.
 */
export interface CellStates {
  meanK: Float64Array[];
  covK2: Float64Array[];
  /** When each state was last valid [epoch ms]; NaN: no state yet (the prior). */
  validMs: Float64Array;
}

/** Just the CellStates columns of `s` (e.g. of a CellAnalysis). */
export function pickCellStates(s: CellStates): CellStates {
  return { meanK: s.meanK, covK2: s.covK2, validMs: s.validMs };
}

/** Cell states of `parts` parts for `n` cells with no state yet. */
export function emptyCellStates(n: number, parts: number): CellStates {
  return {
    meanK: Array.from({ length: parts }, () => new Float64Array(n)),
    covK2: Array.from({ length: packedSize(parts) }, () => new Float64Array(n)),
    validMs: new Float64Array(n).fill(NaN),
  };
}

/** Copies cell `from` of `src` into cell `to` of `dst`; parts `dst` has and `src` lacks get no state (NaN variance). */
export function copyCellState(src: CellStates, from: number, dst: CellStates, to: number): void {
  const n = dst.meanK.length, m = src.meanK.length;
  for (let i = 0; i < n; i++) dst.meanK[i]![to] = i < m ? src.meanK[i]![from]! : 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) dst.covK2[packedIndex(i, j)]![to] = i < m ? src.covK2[packedIndex(i, j)]![from]! : i === j ? NaN : 0;
  }
  dst.validMs[to] = src.validMs[from]!;
}

/** Cell `c`'s state; a part with no state (NaN variance) is replaced by its prior, uncorrelated. */
export function cellState(s: CellStates, c: number, model: BiasModel): PartsState {
  const n = model.length;
  if (s.meanK.length !== n) throw new RangeError(`cell states have ${s.meanK.length} parts, the model ${n}`);
  const out: PartsState = { meanK: Float64Array.from(s.meanK, (col) => col[c]!), covK2: Float64Array.from(s.covK2, (col) => col[c]!) };
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(out.covK2[packedIndex(i, i)]!)) continue;
    out.meanK[i] = 0;
    for (let j = 0; j < n; j++) out.covK2[packedIndex(i, j)] = 0;
    out.covK2[packedIndex(i, i)] = model[i]!.sigmaK * model[i]!.sigmaK;
  }
  return out;
}

function setCellState(s: CellStates, c: number, v: PartsState): void {
  v.meanK.forEach((x, i) => { s.meanK[i]![c] = x; });
  v.covK2.forEach((x, k) => { s.covK2[k]![c] = x; });
}

export interface CellAnalysis extends CellStates {
  /** The bias (the parts' sum) [K] and its variance [K²]: the analysis is background + bias. */
  biasK: Float64Array;
  varK2: Float64Array;
  /** Observations that informed each cell (0 where none was in reach). */
  nObs: Int32Array;
  /** Newest reading among the observations that informed each cell [epoch ms]; NaN where none. */
  newestObsMs: Float64Array;
}

/**
 * Analyses every target cell at `timeMs`: previous states (advanced to `timeMs`) updated with this
 * window's two-scale estimate. `targets` are the cells' centres on the same plane as the observations.
 */
export function analyseCells(targets: PlanePoints, previous: CellStates, obs: AnalysisObservations, large: LargeScale, timeMs: number, o: AnalysisOptions): CellAnalysis {
  const nt = targets.x.length;
  for (const col of [...previous.meanK, ...previous.covK2, previous.validMs]) {
    if (col.length !== nt) throw new RangeError(`targets has ${nt} cells, a column of previous has ${col.length}`);
  }
  const no = obs.x.length;
  const innovation = new Float64Array(no);
  const ratio = new Float64Array(no);
  const s2 = o.localSigmaK * o.localSigmaK;
  for (let i = 0; i < no; i++) {
    innovation[i] = correctedInnovation(obs, i, o) - large.biasK;
    const sigma = obs.official[i] ? o.officialSigmaK : o.amateurSigmaK;
    ratio[i] = (sigma * sigma) / s2 / Math.max(o.minReliability, obs.reliability[i]!);
  }
  // One correlation model for every pair: where a target's elevation is unknown (cells have none
  // without a terrain model) the vertical term is dropped between observations too, which keeps P + R
  // positive definite (a vertical term between some pairs only need not be).
  const targetsHaveZ = Array.from(targets.z).every(Number.isFinite);
  const obsZ = targetsHaveZ ? obs.z : new Float64Array(no).fill(NaN);
  const oi = optimalInterpolation(targets, { x: obs.x, y: obs.y, z: obsZ, innovation, ratio }, { structure: o.structure, maxPoints: o.maxPoints, allowExtrapolation: false }, obs.newestMs);
  const out: CellAnalysis = { ...emptyCellStates(nt, o.process.length), biasK: new Float64Array(nt), varK2: new Float64Array(nt), nObs: oi.used, newestObsMs: new Float64Array(nt).fill(NaN) };
  out.validMs.fill(timeMs);
  const prior = partsPrior(o.process);
  const h = regressorsAt(o.process, timeMs);
  const hArea = regressorsAt(o.process, timeMs, undefined, 'area');
  const hPlace = regressorsAt(o.process, timeMs, undefined, 'place');
  for (let c = 0; c < nt; c++) {
    const prevValid = previous.validMs[c]!;
    const before = Number.isFinite(prevValid) && prevValid <= timeMs
      ? predictParts(cellState(previous, c, o.process), timeMs - prevValid, o.process)
      : prior;
    // A variance ratio is within [0, 1] for a positive-definite system; clamp against rounding (and
    // keep the variance positive where an error-free observation sits on the cell).
    const r = s2 * Math.min(1, Math.max(1e-9, oi.varianceRatio[c]!));
    const after = updateParts(updateParts(before, hArea, large.biasK, large.varK2), hPlace, oi.increment[c]!, r);
    setCellState(out, c, after);
    const total = partsTotal(after, h);
    out.biasK[c] = total.biasK;
    out.varK2[c] = total.varK2;
    out.newestObsMs[c] = oi.trackMax[c]!;
  }
  return out;
}

/**
 * The published variance of a point's temperature [K²]: the filter's own error variance, or — where
 * observations are dense — the network's cross-validation scatter (the error of predicting a sensor
 * from its neighbours, which already includes the analysis error there), whichever is larger.
 */
export function publishedVarK2(filterVarK2: number, pointVarK2: number): number {
  return Math.max(filterVarK2, pointVarK2);
}

/**
 * Each lead's forecast of the bias from cell states valid at `validMs`, without allocating per cell:
 * the mean Σ h_i(t + L) φ_i x_i and variance Σ_ij h_i h_j φ_i φ_j P_ij + Σ_i h_i² (1 − φ_i²) σ_i² at lead L.
 */
export class LeadForecaster {
  private readonly h: Float64Array;
  private readonly hPhi: Float64Array;
  private noiseK2 = 0;

  constructor(private readonly model: BiasModel) {
    this.h = new Float64Array(model.length);
    this.hPhi = new Float64Array(model.length);
  }

  /** Sets the lead: `leadMs` after states valid at `validMs`. */
  at(validMs: number, leadMs: number): this {
    regressorsAt(this.model, validMs + leadMs, this.h);
    this.noiseK2 = 0;
    this.model.forEach((p, i) => {
      const phi = Math.exp(-leadMs / p.tauMs);
      this.hPhi[i] = this.h[i]! * phi;
      this.noiseK2 += this.h[i]! * this.h[i]! * (1 - phi * phi) * p.sigmaK * p.sigmaK;
    });
    return this;
  }

  /** Cell `c`'s bias and its variance at the lead set by `at` (states with every part, as the analysis writes them). */
  bias(s: CellStates, c: number): BiasState {
    const n = this.model.length, w = this.hPhi;
    let biasK = 0, varK2 = this.noiseK2;
    for (let i = 0; i < n; i++) {
      biasK += w[i]! * s.meanK[i]![c]!;
      varK2 += w[i]! * w[i]! * s.covK2[packedIndex(i, i)]![c]!;
      for (let j = 0; j < i; j++) varK2 += 2 * w[i]! * w[j]! * s.covK2[packedIndex(i, j)]![c]!;
    }
    return { biasK, varK2 };
  }
}

/** The bias (the parts' sum) and its variance `leadMs` after a state valid at `validMs` (no observation in between). */
export function biasAtLead(state: PartsState, validMs: number, leadMs: number, model: BiasModel): BiasState {
  return partsTotal(predictParts(state, leadMs, model), regressorsAt(model, validMs + leadMs));
}
