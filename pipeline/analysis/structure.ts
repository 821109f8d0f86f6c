/**
 * Background-error correlation as a function of separation: the Barnes (Gaussian) structure function
 * of gridpp, rho = exp(-½ (d/h)²) · exp(-½ (Δz/v)²), cut to 0 beyond the localisation distance.
 */

export interface BarnesStructure {
  /** Horizontal length scale h [m]. */
  horizontalScaleM: number;
  /** Vertical length scale v [m]; 0 ignores elevation differences (as gridpp does when v = 0 or an elevation is unknown). */
  verticalScaleM: number;
  /** Separations beyond this have zero correlation [m] (localisation cut-off). */
  localizationM: number;
}

/**
 * gridpp's default localisation: the distance where the horizontal correlation falls to 0.0013
 * (exp(-½·3.64²)), i.e. 3.64 h.
 */
export function barnes(horizontalScaleM: number, verticalScaleM = 0, localizationM = 3.64 * horizontalScaleM): BarnesStructure {
  if (!(horizontalScaleM > 0)) throw new RangeError(`horizontalScaleM must be > 0, got ${horizontalScaleM}`);
  if (!(verticalScaleM >= 0)) throw new RangeError(`verticalScaleM must be >= 0, got ${verticalScaleM}`);
  if (!(localizationM > 0)) throw new RangeError(`localizationM must be > 0, got ${localizationM}`);
  return { horizontalScaleM, verticalScaleM, localizationM };
}

/** Correlation between two points at horizontal distance `dM` [m] and elevation difference `dzM` [m] (NaN: unknown). */
export function barnesRho(s: BarnesStructure, dM: number, dzM: number): number {
  if (dM > s.localizationM) return 0;
  const h = dM / s.horizontalScaleM;
  let rho = Math.exp(-0.5 * h * h);
  if (s.verticalScaleM > 0 && Number.isFinite(dzM)) {
    const v = dzM / s.verticalScaleM;
    rho *= Math.exp(-0.5 * v * v);
  }
  return rho;
}
