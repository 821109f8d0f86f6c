/** The evaluators `npm run eval -- <name>` knows. */
import type { Evaluator } from './evaluator.ts';
import { baselineEvaluator } from './baseline.ts';
import { analysisEvaluator } from './analysis.ts';
import { nowcastEvaluator } from './nowcast.ts';

export const evaluators: Record<string, Evaluator> = {
  baseline: baselineEvaluator,
  analysis: analysisEvaluator,
  nowcast: nowcastEvaluator,
};
/** The station-series loading and the nowcast scoring, for the training command. */
export { loadStationSeries, type StationSeriesSet } from './nowcast-datasets.ts';
export { FALKENSEE, TEMPELHOF } from './datasets.ts';
export { evaluateIssues, loadArModels, type IssueFigures, type ArModels } from './nowcast.ts';
