/**
 * `npm run bench -- models [--cells N] [--runs N] [--models <dir>] [--batch N] [--threads N] [--concurrency N] [--json]`: BiLSTM
 * inference through the ONNX smoother (features, onnxruntime-node, output) for every cell of a
 * window at once: 100,000 cells by default. Inputs are synthetic but shaped like the batch's (a
 * diurnal history with 10 % gaps, a trajectory, a tenth of the cells without background). Reports
 * the median of the runs after one warm-up, and the shipped model's training time from its card.
 * Defaults are the batch's: onnxruntime threads = the machine's cores, one batch at a time.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { createOnnxSmoother, ModelRegistry, HISTORY_STEPS, TRAJECTORY_STEPS, SMOOTHER_BATCH_CELLS, seededRandom, type SmootherInput } from '../models/index.ts';
import type { Benchmark } from './benchmark.ts';

function parse(args: string[]): { cells: number; runs: number; models: string; batch: number; threads: number; concurrency: number } {
  const o = { cells: 100_000, runs: 3, models: 'models/artifacts', batch: SMOOTHER_BATCH_CELLS, threads: availableParallelism(), concurrency: 1 };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i], v = args[i + 1];
    if (flag === '--models' && v) { o.models = v; continue; }
    const n = Number(v);
    if (!Number.isInteger(n) || n < (flag === '--threads' ? 0 : 1)) throw new Error(`${String(flag)} expects a ${flag === '--threads' ? 'non-negative' : 'positive'} integer`);
    if (flag === '--cells') o.cells = n;
    else if (flag === '--runs') o.runs = n;
    else if (flag === '--batch') o.batch = n;
    else if (flag === '--threads') o.threads = n;
    else if (flag === '--concurrency') o.concurrency = n;
    else throw new Error(`unknown option ${String(flag)} (known: --cells N, --runs N, --batch N, --threads N, --concurrency N, --models <dir>)`);
  }
  return o;
}

export function syntheticWindow(n: number, seed = 1): SmootherInput {
  const random = seededRandom(seed);
  const runTimeMs = Date.UTC(2026, 5, 15, 14, 0);
  const history = new Float32Array(n * HISTORY_STEPS), filter = new Float32Array(n * TRAJECTORY_STEPS);
  const lat = new Float32Array(n), lon = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const level = 18 + 6 * random(), trend = (random() - 0.5) * 2; // K per hour
    for (let k = 0; k < HISTORY_STEPS; k++) history[i * HISTORY_STEPS + k] = random() < 0.1 ? NaN : level + (trend * (k - HISTORY_STEPS)) / 12 + (random() - 0.5) * 0.2;
    const noBackground = random() < 0.1;
    for (let k = 0; k < TRAJECTORY_STEPS; k++) filter[i * TRAJECTORY_STEPS + k] = noBackground && k > 0 ? NaN : level + (trend * 0.7 * k) / 12;
    lat[i] = 52.35 + 0.33 * random();
    lon[i] = 13.08 + 0.68 * random();
  }
  return { runTimeMs, n, historySteps: HISTORY_STEPS, history, trajectorySteps: TRAJECTORY_STEPS, filter, filterSigma: new Float32Array(n * TRAJECTORY_STEPS).fill(0.8), lat, lon };
}

export const modelsBenchmark: Benchmark = {
  description: 'BiLSTM inference (ONNX, batched) for every cell of a window',
  async run({ args, progress }) {
    const o = parse(args);
    const dir = resolve(o.models);
    const registry = await ModelRegistry.open(dir, { expected: ['bilstm'], intraOpThreads: o.threads });
    try {
      const card = registry.card('bilstm');
      if (!card) throw new Error(`no loadable bilstm model in ${dir}: ${JSON.stringify(registry.health())}`);
      const smoother = createOnnxSmoother(registry, 'bilstm', { batchCells: o.batch, concurrency: o.concurrency });
      const input = syntheticWindow(o.cells);
      progress(`bilstm@${smoother.version}: ${o.cells} cells, batches of ${o.batch}; warm-up`);
      await smoother.smooth(syntheticWindow(Math.min(o.cells, 2_000), 2));
      const times: number[] = [];
      let out: Float32Array | undefined;
      for (let r = 1; r <= o.runs; r++) {
        const t0 = performance.now();
        out = await smoother.smooth(input);
        times.push((performance.now() - t0) / 1000);
        progress(`run ${r}/${o.runs}: ${times.at(-1)!.toFixed(3)} s`);
      }
      const finite = out!.reduce((a, v) => a + (Number.isFinite(v) ? 1 : 0), 0);
      if (finite !== out!.length) throw new Error(`${out!.length - finite} outputs are not finite`);
      const seconds = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      const fullCard = JSON.parse(readFileSync(join(dir, 'bilstm.card.json'), 'utf8')) as { training?: { seconds?: Record<string, number> } };
      return {
        cells: o.cells,
        seconds: Math.round(seconds * 1000) / 1000,
        cells_per_s: Math.round(o.cells / seconds),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
        runs_s: times.map((t) => Math.round(t * 1000) / 1000),
        model: `bilstm@${smoother.version}`,
        batch_cells: o.batch,
        intra_op_threads: o.threads || 'onnxruntime default',
        concurrency: o.concurrency,
        training_seconds: fullCard.training?.seconds ?? null,
      };
    } finally {
      await registry.close();
    }
  },
};
