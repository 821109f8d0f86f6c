/**
 * A map thread: runs `mapShard` (the QC chain of one shard) for the batch worker that started it, so a
 * window's shards are checked on every core. Inputs and outputs are plain data (typed arrays, records);
 * the function is pure, so the thread that ran it makes no difference to the result.
 */
import { parentPort } from 'node:worker_threads';
import { mapShard, type MapInput } from './map-stage.ts';
import type { QcOptions } from './qc/chain.ts';
import type { AnalysisOptions } from './analysis/cell-analysis.ts';
import { encodeSummary } from './artefacts.ts';

export interface MapRequest {
  id: number;
  input: MapInput;
  qc: QcOptions;
  analysis: AnalysisOptions;
}

parentPort!.on('message', (m: MapRequest) => {
  try {
    const stageMs: Record<string, number> = {};
    const out = mapShard(m.input, m.qc, m.analysis, stageMs);
    // The summary's histograms are classes: they cross as their Arrow encoding.
    parentPort!.postMessage({ id: m.id, ok: true, out: { qc: out.qc, observations: out.observations, summary: encodeSummary(out.summary), records: out.records }, stageMs });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
});
