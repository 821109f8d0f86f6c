/**
 * Cold starts (pure). The batch builds a cell's history from its own analyses, so a fresh
 * deployment, or a cell the batch never analysed before, hands the smoother an empty history that
 * fills one 5-minute step per window. These functions give issues that history:
 *
 * - `keepLastHistory(issues, m)`: every issue as if the batch had started m steps before it (the
 *   history's last m steps kept, the rest NaN), for scoring the smoother at a cold start;
 * - `restartHistory(issues, periodSteps)`: restarts every `periodSteps` steps of each series, at a
 *   phase of its own (a hash of the series' index), each issue's history cut at the last restart at
 *   or before it; for training, so that the network learns what a short history means. An issue and
 *   the next one at the same station see the same restart, as the batch's consecutive windows do;
 * - `coldStartCopies(issues, rows, maxSteps)`: copies of the given issues, each keeping the last
 *   0 … maxSteps steps of its history (a hash of its row), for training on more early windows after
 *   a start than restarts alone give without taking full histories away;
 * - `sparseHistoryCopies(issues, rows, everyChoices)`: copies whose history is what the batch makes of
 *   a place whose readings come only every e steps (e one of `everyChoices`, a hash of the row): the
 *   reading on each e-th step back from lead 0, held through the windows between (the filter's
 *   forecast without a background), so that a jump at lead 0 after a flat stretch is learnt as news,
 *   not as a trend.
 */
import { subsetIssues, thinHistory, type IssueSet } from './issues.ts';

function withHistory(issues: IssueSet, keep: (i: number) => number): IssueSet {
  const H = issues.historySteps;
  const history = issues.history.slice();
  for (let i = 0; i < issues.n; i++) {
    const m = keep(i);
    if (!(m >= 0)) throw new RangeError(`issue ${i}: steps of history to keep must be ≥ 0, got ${m}`);
    for (let k = 0; k < H - m; k++) history[i * H + k] = NaN;
  }
  return { ...issues, history };
}

/** The issues with only the last `steps` steps of history (0: none). */
export function keepLastHistory(issues: IssueSet, steps: number): IssueSet {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps must be a non-negative integer, got ${steps}`);
  return withHistory(issues, () => steps);
}

/** A series' restart phase in [0, periodSteps): a deterministic hash of its index. */
export function restartPhase(series: number, periodSteps: number): number {
  let h = Math.imul(series + 1, 0x9e3779b1) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; // a signed 32-bit value from here
  return ((h % periodSteps) + periodSteps) % periodSteps;
}

/** The issues with their history cut at simulated restarts every `periodSteps` steps of each series. */
export function restartHistory(issues: IssueSet, periodSteps: number): IssueSet {
  if (!Number.isInteger(periodSteps) || periodSteps < 1) throw new RangeError(`periodSteps must be a positive integer, got ${periodSteps}`);
  return withHistory(issues, (i) => {
    const slot = issues.slot[i]!;
    const since = (((slot - restartPhase(issues.series[i]!, periodSteps)) % periodSteps) + periodSteps) % periodSteps;
    return Math.min(since, issues.historySteps);
  });
}

/** Copies of `rows`, each with only the last m steps of history, m in 0 … maxSteps by a hash of the row. */
export function coldStartCopies(issues: IssueSet, rows: readonly number[], maxSteps: number): IssueSet {
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new RangeError(`maxSteps must be a non-negative integer, got ${maxSteps}`);
  return withHistory(subsetIssues(issues, rows), (q) => restartPhase(rows[q]!, maxSteps + 1));
}

/** Copies of `rows` with sparse histories: every e-th step back from lead 0 kept and held forward, e from `everyChoices` by a hash of the row. */
export function sparseHistoryCopies(issues: IssueSet, rows: readonly number[], everyChoices: readonly number[]): IssueSet {
  if (everyChoices.length === 0 || everyChoices.some((e) => !Number.isInteger(e) || e < 2)) throw new RangeError(`every choice must be an integer ≥ 2, got ${everyChoices.join(', ')}`);
  return thinHistory(subsetIssues(issues, rows), (q) => everyChoices[restartPhase(rows[q]!, everyChoices.length)]!, { hold: true });
}
