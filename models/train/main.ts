/**
 * `npm run train -- <model> --data <dir> [options]`: trains a next-hour model on the station series
 * found in <dir> by their columns and writes it with its card into models/artifacts (or --out).
 *
 *   ar      the autoregressive baselines (5-minute and hourly), least squares on the training weeks
 *   bilstm  the BiLSTM smoother: BPTT on worker threads, Adam, early stopping on the validation
 *           weeks; exported to ONNX; the card holds its validation figures (against persistence,
 *           the filter and the AR baseline found in the output folder: train `ar` first)
 *
 * Progress goes to stderr; the last stdout line is one JSON summary.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateIssues, loadArModels, loadStationSeries } from '../../eval/index.ts';
import { stationFilterRetention } from '../../pipeline/index.ts';
import { SMOOTHER_STEP_MIN } from '../smoother.ts';
import { ModelRegistry } from '../registry/registry.ts';
import { createOnnxSmoother } from '../registry/onnx-smoother.ts';
import { sha256Hex } from '../registry/model-card.ts';
import { fitAr, arToOnnx, type ArModel } from '../ar/ar-model.ts';
import { splitOf, VALIDATION_EVERY_WEEKS } from '../series/time-split.ts';
import { slotTime, type GridSeries } from '../series/grid-series.ts';
import { subsetIssues, type IssueSet } from '../series/issues.ts';
import { restartHistory } from '../series/cold-start.ts';
import { FEATURE_NAMES, FEATURES, HISTORY_STEPS, SEQUENCE_STEPS, TEMP_SCALE_K, TRAJECTORY_STEPS } from '../bilstm/features.ts';
import { paramLayout, type NetworkShape } from '../bilstm/network.ts';
import { bilstmToOnnx } from '../bilstm/onnx-export.ts';
import { blendDescription, SERVED_BLEND } from '../bilstm/issue-blend.ts';
import { skillLeadWeights, trainNetwork } from './trainer.ts';
import { DEFAULT_BUDGETS, MAX_PARTNER_GAP, selectTrainingSet, tensorsOf, withColdStartCopies, withSparseHistoryCopies } from './training-set.ts';
import { ProgressBar } from './progress-bar.ts';
import { sharedInt32 } from './pool.ts';

/** Bump when the features, the architecture or the training data change in kind. */
export const BILSTM_MAJOR = 1;
export const AR_MAJOR = 1;
/**
 * Weight of the revision (jumpiness) penalty in the loss: chosen on the validation weeks (20 against 50
 * once every sampling's next issue is a partner; README, "The next hour on real data").
 */
export const DEFAULT_REVISION_WEIGHT = 20;
/**
 * Hours between the simulated restarts that cut the training issues' histories (models/series/cold-start.ts):
 * one issue in eight is within the 2 h after one, as after a fresh start of the batch.
 */
export const DEFAULT_RESTART_EVERY_H = 16;
/** Cold-start copies (models/series/cold-start.ts): a copy of one chosen issue in four, with the last 0…11 steps of its history (the first hour after a start); every = 0 for none. */
export const DEFAULT_COLD_COPIES = { every: 4, maxSteps: 11 };
/**
 * Sparse-history copies (models/series/cold-start.ts): a copy of one chosen issue in four whose history
 * has a reading every 3, 6 or 12 steps (15, 30 or 60 min), held between, as the batch's analyses of a
 * place whose readings come that rarely; every = 0 for none.
 */
export const DEFAULT_SPARSE_COPIES = { every: 4, steps: [3, 6, 12] };
/** How the squared errors of the leads are weighted: 'uniform' (1 each) or 'skill' (skillLeadWeights). */
export const DEFAULT_LEAD_WEIGHTING: 'uniform' | 'skill' = 'uniform';
/** How the issues' squared errors are weighted: 'target' (every target the same) or 'issue' (every issue the same; ChunkData.perIssue). */
export const DEFAULT_ISSUE_WEIGHTING: 'target' | 'issue' = 'issue';

const SPLIT_RULE = `validation: every ${VALIDATION_EVERY_WEEKS}th epoch week (floor(t / 7 d) mod ${VALIDATION_EVERY_WEEKS} = ${VALIDATION_EVERY_WEEKS - 1}); training issues whose 2 h history or next hour reaches into a validation week are left out`;

function log(msg: string): void {
  process.stderr.write(`[train] ${msg}\n`);
}

/** Writes the model, then its card (each through a rename), so a polling registry never sees a card without its model. */
function writeArtifact(dir: string, name: string, bytes: Uint8Array, card: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const sha256 = sha256Hex(bytes);
  const file = `${name}.onnx`;
  writeFileSync(join(dir, `.${file}.tmp`), bytes);
  renameSync(join(dir, `.${file}.tmp`), join(dir, file));
  writeCard(dir, name, { ...card, file, sha256 });
  return sha256;
}

function writeCard(dir: string, name: string, card: Record<string, unknown>): void {
  writeFileSync(join(dir, `.${name}.card.json.tmp`), `${JSON.stringify(card, null, 2)}\n`);
  renameSync(join(dir, `.${name}.card.json.tmp`), join(dir, `${name}.card.json`));
}

function int(v: string | undefined, flag: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got "${v}"`);
  return n;
}

function realNum(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got "${v}"`);
  return n;
}

function arCard(name: string, model: ArModel, description: string, period: { from: string | null; to: string | null }, data: string): Record<string, unknown> {
  const p = model.lagSteps.length;
  const version = `${AR_MAJOR}.${sha256Hex(new TextEncoder().encode(JSON.stringify(model))).slice(0, 8)}`;
  return {
    name, version, description, kind: 'autoregressive-baseline',
    inputs: [{ name: 'lags', dims: ['N', p + 1], type: 'float32', description: `temperatures [°C] at t0 − ${[...model.lagSteps].reverse().map((s) => `${s * 5}`).join(', ')} min and t0 (oldest first)` }],
    outputs: [{ name: 'y', dims: ['N', model.leadSteps.length], type: 'float32', description: `forecast [°C] at leads ${model.leadSteps.map((s) => s * 5).join(', ')} min` }],
    ar: model,
    training: { data, split: SPLIT_RULE, period, rows: model.rows, method: 'direct multi-step least squares on increments (ml-matrix), coefficients on levels summing to one' },
    created: { command: `npm run train -- ar --data ${data}` },
  };
}

async function trainAr(dataDir: string, outDir: string): Promise<Record<string, unknown>> {
  const set = await loadStationSeries(dataDir, { progress: log });
  const sub = set.stations.filter((s) => s.series.sampling === 'sub-hourly').map((s) => s.series);
  const hourly = set.stations.filter((s) => s.series.sampling === 'hourly').map((s) => s.series);
  const keep = (s: GridSeries, slot: number) => splitOf(slotTime(s, slot)) === 'train';
  const period = (list: GridSeries[]) => {
    const t = list.flatMap((s) => [s.startMs, s.startMs + (s.values.length - 1) * 300_000]);
    return { from: t.length ? new Date(Math.min(...t)).toISOString() : null, to: t.length ? new Date(Math.max(...t)).toISOString() : null };
  };
  const five = fitAr(sub, { lagSteps: [1, 2, 3, 4, 5, 6], leadSteps: Array.from({ length: 12 }, (_, i) => i + 1), keep });
  log(`ar-5min: ${five.rows[11]} rows at lead 60; lead-60 coefficients ${five.coef[11]!.map((c) => c.toFixed(3)).join(', ')}, intercept ${five.intercept[11]!.toFixed(4)}`);
  const m5 = arCard('ar-5min', five, 'Autoregressive baseline on a 5-minute series: the next hour from the last 30 minutes (direct forecasts per lead).', period(sub), dataDir);
  const sha5 = writeArtifact(outDir, 'ar-5min', arToOnnx(five, { name: 'ar-5min', version: String(m5['version']) }), m5);
  const out: Record<string, unknown> = { ar5min: { version: m5['version'], sha256: sha5, rows: five.rows } };
  if (hourly.length > 0) {
    const hr = fitAr(hourly, { lagSteps: [12, 24], leadSteps: [12], keep });
    log(`ar-hourly: ${hr.rows[0]} rows; coefficients ${hr.coef[0]!.map((c) => c.toFixed(3)).join(', ')}, intercept ${hr.intercept[0]!.toFixed(4)}`);
    const mh = arCard('ar-hourly', hr, 'Autoregressive baseline on an hourly series: the next hour from the last two hours.', period(hourly), dataDir);
    const shah = writeArtifact(outDir, 'ar-hourly', arToOnnx(hr, { name: 'ar-hourly', version: String(mh['version']) }), mh);
    out['arHourly'] = { version: mh['version'], sha256: shah, rows: hr.rows };
  }
  return out;
}

async function trainBilstm(dataDir: string, outDir: string, v: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  const startedMs = Date.now();
  const seed = int(v['seed'], '--seed', 1);
  // lead 0 is the analysis, the best estimate at the place: the network corrects leads 5..60 only
  const shape: NetworkShape = { inputs: FEATURES, hidden: int(v['hidden'], '--hidden', 12, 1), dense: int(v['dense'], '--dense', 12, 1), steps: SEQUENCE_STEPS, outSteps: TRAJECTORY_STEPS, fixedOutputs: 1 };
  const scale = realNum(v['budget-scale'], '--budget-scale', 1);
  // the issues with a background are the batch's own case (it always has one, or labels the fallback)
  const bgScale = scale * realNum(v['background-budget-scale'], '--background-budget-scale', 1);
  const s1 = (b: number, f = scale) => Math.max(1, Math.round(b * f));
  const budgets = { subHourlyWithBackground: s1(DEFAULT_BUDGETS.subHourlyWithBackground, bgScale), subHourlyWithout: s1(DEFAULT_BUDGETS.subHourlyWithout), hourlyWithBackground: s1(DEFAULT_BUDGETS.hourlyWithBackground, bgScale), hourlyWithout: s1(DEFAULT_BUDGETS.hourlyWithout) };
  const workers = int(v['workers'], '--workers', Math.max(1, availableParallelism()));
  const opts = {
    shape, seed, workers,
    maxEpochs: int(v['epochs'], '--epochs', 8, 1), patience: int(v['patience'], '--patience', 2, 1),
    batchSize: int(v['batch'], '--batch', 128, 1), chunkSize: int(v['chunk'], '--chunk', 16, 1),
    learningRate: realNum(v['lr'], '--lr', 0.003), learningRateDecay: realNum(v['lr-decay'], '--lr-decay', 0.9),
  };

  const set = await loadStationSeries(dataDir, { progress: log });
  const revisionWeight = v['revision-weight'] === undefined ? DEFAULT_REVISION_WEIGHT : Number(v['revision-weight']);
  if (!(revisionWeight >= 0)) throw new Error(`--revision-weight expects a number ≥ 0, got "${v['revision-weight']}"`);
  const leadWeighting = v['lead-weighting'] ?? DEFAULT_LEAD_WEIGHTING;
  if (leadWeighting !== 'uniform' && leadWeighting !== 'skill') throw new Error(`--lead-weighting expects uniform or skill, got "${leadWeighting}"`);
  const issueWeighting = v['issue-weighting'] ?? DEFAULT_ISSUE_WEIGHTING;
  if (issueWeighting !== 'target' && issueWeighting !== 'issue') throw new Error(`--issue-weighting expects target or issue, got "${issueWeighting}"`);
  // sources named relative to the data folder (a card carries no machine path)
  const stations = set.stations.map((st) => ({ ...st, source: relative(resolve(dataDir), st.source) || '.' }));
  const selected = selectTrainingSet(stations, budgets, { partners: revisionWeight > 0, filterRetention: stationFilterRetention(SMOOTHER_STEP_MIN, TRAJECTORY_STEPS - 1) });
  // simulated restarts of the batch: the network sees the short histories of a cold start too
  const restartEveryH = v['restart-every-h'] === undefined ? DEFAULT_RESTART_EVERY_H : Number(v['restart-every-h']);
  if (!(restartEveryH >= 0)) throw new Error(`--restart-every-h expects a number of hours ≥ 0 (0: no restarts), got "${v['restart-every-h']}"`);
  const restartSteps = Math.round((restartEveryH * 60) / SMOOTHER_STEP_MIN);
  const copiesEvery = int(v['cold-copies-every'], '--cold-copies-every', DEFAULT_COLD_COPIES.every, 0);
  const copiesMaxSteps = int(v['cold-copies-max-steps'], '--cold-copies-max-steps', DEFAULT_COLD_COPIES.maxSteps, 0);
  const sparseEvery = int(v['sparse-copies-every'], '--sparse-copies-every', DEFAULT_SPARSE_COPIES.every, 0);
  const sparseChoices = (v['sparse-copies-steps'] ?? DEFAULT_SPARSE_COPIES.steps.join(',')).split(',').map((x) => int(x, '--sparse-copies-steps', 0, 2));
  const sparse = sparseEvery > 0 ? withSparseHistoryCopies(selected, { every: sparseEvery, everyChoices: sparseChoices, offset: 2 }) : selected;
  const ts = copiesEvery > 0 ? withColdStartCopies(sparse, { every: copiesEvery, maxSteps: copiesMaxSteps }) : sparse;
  const trainRows = Int32Array.from({ length: ts.issues.n }, (_, i) => i).filter((i) => ts.part[i] === 0 && ts.unit[i] === 1);
  const validationRows = Int32Array.from({ length: ts.issues.n }, (_, i) => i).filter((i) => ts.part[i] === 1 && ts.unit[i] === 1);
  log(`${ts.issues.n} issues: ${trainRows.length} training, ${validationRows.length} validation (${SPLIT_RULE})`);
  for (const s of ts.summary) log(`  ${s.id} (${s.sampling}): ${s.train} training, ${s.validation} validation, ${s.withBackground} with background, ${s.fromIso ?? '-'} .. ${s.toIso ?? '-'}`);
  const trained = restartSteps > 0 ? restartHistory(ts.issues, restartSteps) : ts.issues;
  if (sparseEvery > 0) log(`sparse histories: ${sparse.issues.n - selected.issues.n} copies (one of every ${sparseEvery} chosen issues) with a reading every ${sparseChoices.join(' or ')} steps, held between`);
  if (copiesEvery > 0) log(`cold starts: ${ts.issues.n - sparse.issues.n} copies (one of every ${copiesEvery} chosen issues) with the last 0…${copiesMaxSteps} steps of history`);
  if (restartSteps > 0) log(`cold starts: a simulated restart every ${restartEveryH} h per station (${((100 * Math.min(HISTORY_STEPS, restartSteps)) / restartSteps).toFixed(1)} % of issues within 2 h of one)`);
  const { x, y, baseN } = tensorsOf(trained);
  const partner = sharedInt32(ts.issues.n);
  partner.set(ts.partner);
  const partnerGap = sharedInt32(ts.issues.n);
  partnerGap.set(ts.partnerGap);
  const layout = paramLayout(shape);
  log(`network: BiLSTM ${shape.hidden} units per direction over ${SEQUENCE_STEPS} steps × ${FEATURES} features, dense ${shape.dense}, ${layout.size} parameters; ${workers} worker thread(s)`);

  const bar = new ProgressBar(process.stderr, '[train bilstm] ');
  const loadedS = (Date.now() - startedMs) / 1000;
  const leadWeight = leadWeighting === 'skill' ? skillLeadWeights(y, TRAJECTORY_STEPS, trainRows) : undefined;
  if (leadWeight) log(`lead weights (skill): ${Array.from(leadWeight, (w) => w.toFixed(2)).join(' ')}`);
  const r = await trainNetwork({ x, y, trainRows, validationRows, partner, partnerGap, baseN }, { ...opts, revisionWeight, ...(leadWeight ? { leadWeight } : {}), issueWeighting, bar });
  log(`best epoch ${r.bestEpoch}: validation loss ${r.bestValidationLoss.toFixed(5)}; ${r.epochs.length} epochs in ${r.seconds.toFixed(0)} s${r.stoppedEarly ? ' (stopped early)' : ''}`);

  const weightsSha = sha256Hex(new Uint8Array(Float32Array.from(r.params).buffer));
  const version = `${BILSTM_MAJOR}.${weightsSha.slice(0, 8)}`;
  const bytes = bilstmToOnnx({ layout, params: r.params, tempScaleK: TEMP_SCALE_K, metadata: { name: 'bilstm', version }, doc: 'BiLSTM next-hour smoother (see bilstm.card.json)' });
  const trainSummary = ts.summary.filter((s) => s.train > 0);
  const card: Record<string, unknown> = {
    name: 'bilstm', version, kind: 'next-hour-smoother',
    description: 'Bidirectional LSTM over 2 h of 5-minute history and the filter\'s next-hour trajectory; predicts the next hour at 5-minute steps as the base trajectory plus a learned correction.',
    inputs: [
      { name: 'x', dims: [SEQUENCE_STEPS, 'N', FEATURES], type: 'float32', description: `features, time-major: ${HISTORY_STEPS} history steps (t0 − 120 … t0 − 5 min) then ${TRAJECTORY_STEPS} trajectory steps (leads 0 … 60 min); features ${FEATURE_NAMES.join(', ')}` },
      { name: 'base', dims: ['N', TRAJECTORY_STEPS], type: 'float32', description: 'base trajectory [°C]: the filter where it has a value, else the anchor (persistence)' },
    ],
    outputs: [{ name: 'y', dims: ['N', TRAJECTORY_STEPS], type: 'float32', description: 'smoothed next hour [°C], leads 0, 5, …, 60 min' }],
    serving: { note: 'what the batch serves (and eval nowcast scores as bilstm; the network\'s own y as bilstm_raw): y blended with the previous window\'s served trajectory', ...blendDescription(SERVED_BLEND, TRAJECTORY_STEPS) },
    features: {
      names: FEATURE_NAMES,
      normalisation: {
        anchor: 'the trajectory at lead 0 (the current analysis), else the last history value',
        temperatures: `(T − anchor) / ${TEMP_SCALE_K} K; missing values are 0 with their mask 0 (no interpolation)`,
        leadH: 'offset of the step from lead 0 in hours (−2 … 1)',
        timeOfDay: 'sin/cos of local solar time (UTC + lon/15 h) at the step',
        timeOfYear: 'sin/cos of (epoch days mod 365.2425) / 365.2425',
        withoutBackground: 'the trajectory is the analysis at lead 0 and NaN after: the base persists the analysis and trajectoryMask is 0',
      },
      code: 'models/bilstm/features.ts',
    },
    architecture: { type: 'LSTM(direction=bidirectional) → dense tanh → linear, on the last 13 steps', ...shape, parameters: layout.size, onnxOpset: 15 },
    training: {
      data: dataDir,
      sources: ts.summary,
      period: { from: trainSummary.map((s) => s.fromIso).filter(Boolean).sort()[0] ?? null, to: trainSummary.map((s) => s.toIso).filter(Boolean).sort().at(-1) ?? null, note: 'the data folder holds no row of the held-back windows (2017-01-22..31, 2017-06-21..30, from 2020-09-01)' },
      split: SPLIT_RULE,
      inputs: `at a station: history = its readings on the 5-minute grid (nearest reading within ±2.5 min, gaps masked); filter = background + (reading − background at t0) × the batch's retention of a lasting bias at each lead (the filter's fast and slow levels at steady state: ${Array.from(stationFilterRetention(SMOOTHER_STEP_MIN, TRAJECTORY_STEPS - 1), (v) => v.toFixed(3)).join(', ')}) where the background (ERA5) covers, else the reading at lead 0 only; target = the readings at leads 0..60`,
      budgets, seed, options: { ...opts, shape: undefined },
      loss: `mean squared error of (y − base) / ${TEMP_SCALE_K} K over the leads with a reading${leadWeight ? ', each lead weighted by the mean over leads of the base\'s squared error divided by its own (every lead the same say in skill terms; skillLeadWeights in models/train/trainer.ts)' : ''}${issueWeighting === 'issue' ? `, each issue\'s error scaled by ${TRAJECTORY_STEPS - 1} / its targets at leads 5…60 min (every issue the same say: an hourly issue\'s one target as much as a 5-minute issue\'s twelve)` : ''}, plus ${revisionWeight} × the squared revision between the forecasts of an issue and of the next one at the same station (within ${MAX_PARTNER_GAP * SMOOTHER_STEP_MIN} min) for the same times (models/train/chunk.ts)`,
      revisionWeight,
      coldStarts: restartSteps > 0
        ? `the history of each training and validation issue cut at simulated restarts of the batch every ${restartEveryH} h per station (phase a hash of the station; models/series/cold-start.ts), as after a fresh start the batch's history of a cell fills one step per window`
        : 'none: every issue has its full history',
      sparseHistoryCopies: sparseEvery > 0 ? `a copy of one in ${sparseEvery} chosen issues whose history has a reading every ${sparseChoices.join(' or ')} steps back from lead 0 (a hash of the row), held between, as the batch's analyses of a place whose readings come that rarely; without a revision partner` : 'none',
      coldStartCopies: copiesEvery > 0 ? `a copy of one in ${copiesEvery} chosen issues, keeping only the last 0…${copiesMaxSteps} steps of its history (a hash of the row), without a revision partner` : 'none',
      leadWeighting, issueWeighting, ...(leadWeight ? { leadWeights: Array.from(leadWeight, (w) => Number(w.toFixed(4))) } : {}),
      epochs: r.epochs, bestEpoch: r.bestEpoch, stoppedEarly: r.stoppedEarly,
      seconds: { loadingAndFeatures: Math.round(loadedS), training: Math.round(r.seconds) },
      crowd: 'not used: raw hourly snapshots of unscreened sensors (sun-exposed, indoor) would teach their errors',
    },
    created: { command: `npm run train -- bilstm --data ${dataDir}`, weightsSha256: weightsSha },
  };
  const sha256 = writeArtifact(outDir, 'bilstm', bytes, card);

  // validation figures through the served path (registry + ONNX smoother)
  const metrics: Record<string, unknown> = {};
  try {
    const ar = loadArModels(outDir);
    const registry = await ModelRegistry.open(outDir, {});
    try {
      const rows = Array.from(validationRows).filter((i) => i < selected.issues.n);
      const sub = subsetIssues(selected.issues, rows);
      const hourlyIdx = new Set(set.stations.map((s, i) => (s.series.sampling === 'hourly' ? i : -1)).filter((i) => i >= 0));
      const f = await evaluateIssues(sub, { smoother: createOnnxSmoother(registry, 'bilstm'), ar, hourlyRow: (i) => hourlyIdx.has(sub.series[i]!) });
      const { lead60BySeries: _bySeries, ...figures } = f; // by station: in eval nowcast's output, with the stations' ids
      metrics['validation'] = { note: 'the validation weeks of the training data (never trained on); thinned like the training issues', ...figures };
    } finally {
      await registry.close();
    }
  } catch (err) {
    metrics['validation'] = { error: (err as Error).message };
  }
  writeCard(outDir, 'bilstm', { ...card, file: 'bilstm.onnx', sha256, metrics });
  return { version, sha256, bestEpoch: r.bestEpoch, epochs: r.epochs.length, trainSeconds: Math.round(r.seconds), totalSeconds: Math.round((Date.now() - startedMs) / 1000), issues: { train: trainRows.length, validation: validationRows.length }, metrics };
}

async function main(): Promise<void> {
  const [model, ...rest] = process.argv.slice(2);
  const { values: v } = parseArgs({
    args: rest, strict: true, allowPositionals: false,
    options: Object.fromEntries(['data', 'out', 'seed', 'hidden', 'dense', 'epochs', 'patience', 'batch', 'chunk', 'lr', 'lr-decay', 'workers', 'budget-scale', 'background-budget-scale', 'revision-weight', 'lead-weighting', 'issue-weighting', 'restart-every-h', 'cold-copies-every', 'cold-copies-max-steps', 'sparse-copies-every', 'sparse-copies-steps'].map((k) => [k, { type: 'string' as const }])),
  });
  if (model !== 'bilstm' && model !== 'ar') {
    process.stderr.write(`usage: npm run train -- <bilstm|ar> --data <dir> [--out models/artifacts] [--seed 1] [--hidden 12] [--dense 12] [--epochs 8] [--patience 2] [--batch 128] [--chunk 16] [--lr 0.003] [--lr-decay 0.9] [--workers N] [--budget-scale 1] [--background-budget-scale 1] [--revision-weight ${DEFAULT_REVISION_WEIGHT}] [--lead-weighting ${DEFAULT_LEAD_WEIGHTING}|skill] [--issue-weighting ${DEFAULT_ISSUE_WEIGHTING}|${DEFAULT_ISSUE_WEIGHTING === 'target' ? 'issue' : 'target'}] [--restart-every-h ${DEFAULT_RESTART_EVERY_H} (0: none)] [--cold-copies-every N (0: none)] [--cold-copies-max-steps ${DEFAULT_COLD_COPIES.maxSteps}] [--sparse-copies-every N (0: none)] [--sparse-copies-steps ${DEFAULT_SPARSE_COPIES.steps.join(',')}]\n`);
    process.exit(2);
  }
  if (v.data === undefined) {
    process.stderr.write('--data <dir> is required\n');
    process.exit(2);
  }
  const outDir = resolve(v.out ?? 'models/artifacts');
  const dataDir = v.data;
  const result = model === 'ar' ? await trainAr(dataDir, outDir) : await trainBilstm(dataDir, outDir, v);
  process.stdout.write(`${JSON.stringify({ train: model, out: outDir, ...result })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
