/**
 * Prometheus gauges about the nowcast, read at scrape time: the served snapshot's age, the last
 * batch (duration, status, readings, the share QC rejected by reason), ingest lag (readings' arrival
 * after their time), the share of records ingest rejected (dead letters) over the last hour, and the
 * API's models (each one's status, the predictions waiting for the model thread).
 */
import type { Queryable } from '../infra/store/index.ts';
import { prom } from './http-metrics.ts';
import type { SnapshotView } from './forecast.ts';
import type { ModelSummary } from './model-service.ts';

let registered = false;

/**
 * The share of a run's readings each QC reason rejected, and `all` for every rejection: from the
 * ledger's counts per reason (`ok` counts the kept). Empty when the run had no readings.
 */
export function qcRejectedShares(qc: Readonly<Record<string, number>>): Map<string, number> {
  let total = 0;
  for (const n of Object.values(qc)) total += n;
  const out = new Map<string, number>();
  if (!(total > 0)) return out;
  for (const [reason, n] of Object.entries(qc)) if (reason !== 'ok') out.set(reason, n / total);
  out.set('all', (total - (qc.ok ?? 0)) / total);
  return out;
}

export function registerNowcastMetrics(o: { live: SnapshotView; store: Queryable; models?: { list(): ModelSummary[]; readonly queued: number }; now?: () => number }): void {
  if (registered) return;
  registered = true;
  const now = o.now ?? Date.now;
  new prom.Gauge({
    name: 'nowcast_snapshot_age_seconds', help: 'Age of the run the API serves (now - run time)',
    collect() {
      const s = o.live.current;
      this.set(s ? (now() - s.runTimeMs) / 1000 : NaN);
    },
  });
  const last = () => o.live.status.ledger?.lastDone ?? null;
  new prom.Gauge({
    name: 'nowcast_batch_duration_seconds', help: 'Duration of the last finished batch run',
    collect() {
      const r = last();
      this.set(r && r.finishedAtMs !== null ? (r.finishedAtMs - r.startedAtMs) / 1000 : NaN);
    },
  });
  new prom.Gauge({
    name: 'nowcast_batch_failing', help: '1 when the newest batch run failed',
    collect() {
      this.set(o.live.status.ledger?.last?.status === 'failed' ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: 'nowcast_batch_readings', help: 'Readings used by the last finished batch run',
    collect() {
      this.set(last()?.nReadings ?? NaN);
    },
  });
  new prom.Gauge({
    name: 'nowcast_qc_rejected_ratio', help: 'Share of the last finished batch run\'s readings that quality control rejected, by reason (all: any reason)',
    labelNames: ['reason'] as const,
    collect() {
      this.reset();
      const qc = last()?.qc;
      if (qc) for (const [reason, share] of qcRejectedShares(qc)) this.set({ reason }, share);
    },
  });
  new prom.Gauge({
    // (A gauge may not carry a `quantile` label, which Prometheus reserves for summaries.)
    name: 'nowcast_ingest_lag_seconds', help: 'Delay from a reading\'s time to its storage, over readings of the last 10 minutes: median and max',
    labelNames: ['statistic'] as const,
    async collect() {
      const r = await o.store.query<{ p50: number | null; pmax: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - time))::float8 AS p50,
                max(extract(epoch FROM received_at - time))::float8 AS pmax
         FROM readings WHERE time > now() - interval '10 minutes'`,
      ).catch(() => null);
      this.set({ statistic: 'median' }, r?.rows[0]?.p50 ?? NaN);
      this.set({ statistic: 'max' }, r?.rows[0]?.pmax ?? NaN);
    },
  });
  new prom.Gauge({
    name: 'nowcast_ingest_rejected_ratio', help: 'Share of records ingest rejected (dead letters) over the last hour',
    async collect() {
      const r = await o.store.query<{ bad: number; good: number }>(
        `SELECT (SELECT count(*) FROM dead_letters WHERE received_at > now() - interval '1 hour')::int AS bad,
                (SELECT count(*) FROM readings WHERE time > now() - interval '1 hour')::int AS good`,
      ).catch(() => null);
      const row = r?.rows[0];
      this.set(row && row.bad + row.good > 0 ? row.bad / (row.bad + row.good) : NaN);
    },
  });
  const models = o.models;
  if (!models) return;
  new prom.Gauge({
    name: 'nowcast_model_up', help: 'Per model the API serves: 1 while it is loaded and its last run succeeded, else 0 (missing or failing)',
    labelNames: ['model'] as const,
    collect() {
      this.reset();
      for (const m of models.list()) this.set({ model: m.name }, m.status === 'ok' ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: 'nowcast_model_predictions_waiting', help: 'Predictions waiting for (or running on) the API\'s model thread',
    collect() {
      this.set(models.queued);
    },
  });
}
