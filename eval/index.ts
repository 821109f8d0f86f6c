/** The evaluators `npm run eval -- <name>` knows. */
import type { Evaluator } from './evaluator.ts';
import { baselineEvaluator } from './baseline.ts';
import { nowcastEvaluator } from './nowcast.ts';

export const evaluators: Record<string, Evaluator> = {
  baseline: baselineEvaluator,
  nowcast: nowcastEvaluator,
};
