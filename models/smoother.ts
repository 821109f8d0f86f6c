/**
 * The next-hour smoother port. The batch hands it, for every cell of a window at once, the cell's
 * recent analysis history and the filter's next-hour trajectory; it answers a smoothed next hour.
 * The BiLSTM (ONNX, onnxruntime-node) implements it. When no smoother is configured, or it fails,
 * the batch keeps the filter's trajectory and labels the cells so.
 *
 * Layout: row-major, one row per cell. NaN marks a missing value (a gap in the history, no
 * background): implementations turn NaN into explicit masks, never into silent interpolation.
 */

/** Minutes between steps of the history and of the trajectory. */
export const SMOOTHER_STEP_MIN = 5;

export interface SmootherInput {
  /** Time of lead 0 [epoch ms, UTC]: the window's end. */
  runTimeMs: number;
  /** Cells in this call. */
  n: number;
  /** Steps of history per cell: history[i * historySteps + k] is valid at runTimeMs - (historySteps - k) * 5 min (oldest first, the last one 5 min before lead 0). */
  historySteps: number;
  /** The cell's analysis temperature at each history step [°C]; NaN where there was none. */
  history: Float32Array;
  /** Steps of the trajectory per cell: leads 0, 5, … minutes (13 for the next hour). */
  trajectorySteps: number;
  /** The filter's trajectory (background plus the decaying correction) [°C]; NaN where no background covers the cell. */
  filter: Float32Array;
  /** The filter's 1-sigma at each lead [°C]. */
  filterSigma: Float32Array;
  /** Cell centres [degrees] (for local solar time). */
  lat: Float32Array;
  lon: Float32Array;
}

export interface NextHourSmoother {
  /** The model's name and version, named in the nowcast's method (e.g. "bilstm@3"). */
  readonly name: string;
  readonly version: string;
  /** The smoothed trajectory, n × trajectorySteps [°C] in the layout of `filter`. Rejects on failure. */
  smooth(input: SmootherInput): Promise<Float32Array>;
}
