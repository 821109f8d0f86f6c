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
 * 3. Time. Each cell's window estimate z = g + increment, with variance var(g) + σ_S² · (OI variance
 *    ratio), updates the cell's Kalman state, which relaxes toward 0 between windows. The state is the
 *    bias in two parts with their own time scales (kalman.ts, TwoScaleProcess): the background's
 *    mesoscale error, which passes in hours, and the place's own offset, which lasts most of a day.
 * Pure: state and observations in, state out.
 */
import { optimalInterpolation, type PlanePoints } from './oi.ts';
import type { BarnesStructure } from './structure.ts';
import { predictTwoScale, twoScalePrior, twoScaleTotal, updateTwoScale, type BiasState, type TwoScaleProcess, type TwoScaleState } from './kalman.ts';

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
  /** The bias's relaxation in time: a fast part with σ_B and a slow part with σ_S. */
  process: TwoScaleProcess;
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

/** Each cell's two-scale filter state (see TwoScaleState), column-wise. */
export interface CellStates {
  fastK: Float64Array;
  slowK: Float64Array;
  fastVarK2: Float64Array;
  slowVarK2: Float64Array;
  crossVarK2: Float64Array;
  /** When each state was last valid [epoch ms]; NaN: no state yet (the prior: 0 with σ_B², σ_S²). */
  validMs: Float64Array;
}

/** The columns of CellStates. */
export const CELL_STATE_COLUMNS = ['fastK', 'slowK', 'fastVarK2', 'slowVarK2', 'crossVarK2', 'validMs'] as const satisfies readonly (keyof CellStates)[];

/** Just the CellStates columns of `s` (e.g. of a CellAnalysis). */
export function pickCellStates(s: CellStates): CellStates {
  return { fastK: s.fastK, slowK: s.slowK, fastVarK2: s.fastVarK2, slowVarK2: s.slowVarK2, crossVarK2: s.crossVarK2, validMs: s.validMs };
}

/** Cell states for `n` cells with no state yet. */
export function emptyCellStates(n: number): CellStates {
  return { fastK: new Float64Array(n), slowK: new Float64Array(n), fastVarK2: new Float64Array(n), slowVarK2: new Float64Array(n), crossVarK2: new Float64Array(n), validMs: new Float64Array(n).fill(NaN) };
}

export function cellState(s: CellStates, c: number): TwoScaleState {
  return { fastK: s.fastK[c]!, slowK: s.slowK[c]!, fastVarK2: s.fastVarK2[c]!, slowVarK2: s.slowVarK2[c]!, crossVarK2: s.crossVarK2[c]! };
}

function setCellState(s: CellStates, c: number, v: TwoScaleState): void {
  s.fastK[c] = v.fastK;
  s.slowK[c] = v.slowK;
  s.fastVarK2[c] = v.fastVarK2;
  s.slowVarK2[c] = v.slowVarK2;
  s.crossVarK2[c] = v.crossVarK2;
}

export interface CellAnalysis extends CellStates {
  /** The bias (fast + slow) [K] and its variance [K²]: the analysis is background + bias. */
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
  for (const [name, col] of Object.entries(previous)) {
    if (col.length !== nt) throw new RangeError(`targets has ${nt} cells, previous.${name} has ${col.length}`);
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
  const out: CellAnalysis = { ...emptyCellStates(nt), biasK: new Float64Array(nt), varK2: new Float64Array(nt), nObs: oi.used, newestObsMs: new Float64Array(nt).fill(NaN) };
  out.validMs.fill(timeMs);
  const prior = twoScalePrior(o.process);
  for (let c = 0; c < nt; c++) {
    const prevValid = previous.validMs[c]!;
    const before = Number.isFinite(prevValid) && prevValid <= timeMs
      ? predictTwoScale(cellState(previous, c), timeMs - prevValid, o.process)
      : prior;
    const z = large.biasK + oi.increment[c]!;
    // A variance ratio is within [0, 1] for a positive-definite system; clamp against rounding.
    const r = large.varK2 + s2 * Math.min(1, Math.max(0, oi.varianceRatio[c]!));
    const after = updateTwoScale(before, z, r);
    setCellState(out, c, after);
    const total = twoScaleTotal(after);
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

/** The bias (fast + slow) and its variance `leadMs` after the analysis (no observation in between). */
export function biasAtLead(state: TwoScaleState, leadMs: number, process: TwoScaleProcess): BiasState {
  return twoScaleTotal(predictTwoScale(state, leadMs, process));
}
