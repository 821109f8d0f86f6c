/**
 * MAP: one shard's window through the QC chain, to the shard's contribution to the reduce: its own
 * sensors that passed (the super-observations the analysis uses) and mergeable summaries of the
 * large scale. The shard loads its own sensors plus a halo of neighbours wide enough that its own
 * sensors' flags do not depend on the sharding; only its own sensors' results leave it. Pure.
 */
import { runQcChain, type QcInput, type QcOptions, type QcOutput } from './qc/chain.ts';
import { ValueHistogram } from './analysis/histogram.ts';
import { correctedInnovation, type AnalysisObservations, type AnalysisOptions, type LargeScaleInput } from './analysis/cell-analysis.ts';
import type { SensorRecord } from './qc/sensor-record.ts';

export interface MapInput extends QcInput {
  /** 1 for the sensors this shard owns (its results are kept); 0 for the halo. */
  own: Uint8Array;
  /** 0 for sensors checked but never used in the analysis (withheld for evaluation); default all 1. */
  useInAnalysis?: Uint8Array;
}

/** What a shard's map hands to the reduce (mergeable across shards). */
export interface MapSummary {
  crowd: ValueHistogram;
  /** Binned like the crowd, so merging is exact in any order (a float sum would depend on the order). */
  official: ValueHistogram;
  /** The SCT's cross-validation deviations of the shard's passing amateur sensors [K]. */
  cvDeviation: ValueHistogram;
}

export interface MapOutput {
  qc: QcOutput;
  /** The shard's own sensors that passed and may be used, as observations for the analysis. */
  observations: AnalysisObservations & { sensorId: string[] };
  summary: MapSummary;
  /** The shard's own sensors' records after this window, by sensor id. */
  records: Map<string, SensorRecord>;
}

export function mapShard(input: MapInput, qcOptions: QcOptions, analysis: AnalysisOptions, stageMs?: Record<string, number>): MapOutput {
  const qc = runQcChain({ ...input, updateRecords: input.own }, qcOptions, stageMs); // the halo's records are kept elsewhere
  const s = input.sensors;
  const ns = s.id.length;
  if (input.own.length !== ns) throw new RangeError(`sensors.id has ${ns} entries, own has ${input.own.length}`);
  if (input.useInAnalysis && input.useInAnalysis.length !== ns) throw new RangeError(`sensors.id has ${ns} entries, useInAnalysis has ${input.useInAnalysis.length}`);
  const chosen: number[] = [];
  for (let si = 0; si < ns; si++) {
    if (input.own[si] && qc.sensorReason[si] === 0 && (input.useInAnalysis?.[si] ?? 1)) chosen.push(si);
  }
  const rec = (si: number) => input.records[si];
  const observations = {
    sensorId: chosen.map((si) => s.id[si]!),
    x: Float64Array.from(chosen, (si) => s.x[si]!),
    y: Float64Array.from(chosen, (si) => s.y[si]!),
    z: Float64Array.from(chosen, (si) => s.z[si]!),
    innovationK: Float64Array.from(chosen, (si) => qc.innovationK[si]!),
    official: Uint8Array.from(chosen, (si) => s.official[si]!),
    // The offset learned before this window (the current window does not correct itself).
    offsetK: Float64Array.from(chosen, (si) => (s.official[si] ? 0 : (rec(si)?.offsetK ?? 0))),
    offsetWeight: Float64Array.from(chosen, (si) => (s.official[si] ? 0 : (rec(si)?.offsetWeight ?? 0))),
    reliability: Float64Array.from(chosen, (si) => qc.records[si]!.reliability),
    newestMs: Float64Array.from(chosen, (si) => qc.newestMs[si]!),
  };
  const summary: MapSummary = { crowd: new ValueHistogram(), official: new ValueHistogram(), cvDeviation: new ValueHistogram() };
  chosen.forEach((si, k) => {
    if (s.official[si]) summary.official.add(observations.innovationK[k]!);
    else {
      summary.crowd.add(correctedInnovation(observations, k, analysis));
      summary.cvDeviation.add(qc.cvDeviationK[si]!);
    }
  });
  const records = new Map<string, SensorRecord>();
  for (let si = 0; si < ns; si++) if (input.own[si]) records.set(s.id[si]!, qc.records[si]!);
  return { qc, observations, summary, records };
}

/** The window-wide summary from every shard's (order does not matter: counts and sums). */
export function mergeSummaries(parts: readonly MapSummary[]): MapSummary {
  const out: MapSummary = { crowd: new ValueHistogram(), official: new ValueHistogram(), cvDeviation: new ValueHistogram() };
  for (const p of parts) {
    out.crowd.merge(p.crowd);
    out.official.merge(p.official);
    out.cvDeviation.merge(p.cvDeviation);
  }
  return out;
}

export function largeScaleInputOf(s: MapSummary): LargeScaleInput {
  return { crowdMedianK: s.crowd.median(), crowdMadK: s.crowd.mad(), crowdN: s.crowd.n, officialMeanK: s.official.mean(), officialN: s.official.n };
}
