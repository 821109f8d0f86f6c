/** The pipeline role: the domain, a batch worker and the scheduler that drives it, from the configuration. */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import type { Store } from '../infra/store/index.ts';
import { DAY_MS } from '../infra/time.ts';
import type { NextHourSmoother } from '../models/index.ts';
import { DEFAULT_ANALYSIS } from './analysis/defaults.ts';
import { BatchWorker, makeDomain, type Domain } from './batch.ts';
import { DEFAULT_QC } from './qc/defaults.ts';
import { startScheduler, type Scheduler } from './scheduler.ts';

export interface PipelineRole {
  domain: Domain;
  worker: BatchWorker;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

export function startPipelineRole(o: { store: Store; log: Logger; config: Config; smoother?: NextHourSmoother; now?: () => number }): PipelineRole {
  const { grid: g, batch: b } = o.config;
  const domain = makeDomain(g.bbox, g.resolution, b.shardResolution);
  o.log.info({ role: 'pipeline', cells: domain.grid.length, shards: domain.plan.shards.length, resolution: g.resolution, shardResolution: b.shardResolution }, 'domain ready');
  const worker = new BatchWorker({
    store: o.store, log: o.log, domain, windowMs: b.windowMs, qc: DEFAULT_QC, analysis: DEFAULT_ANALYSIS, haloM: b.haloM,
    workerId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`, leaseMs: b.leaseMs, maxTaskAttempts: b.taskAttempts,
    retryBaseMs: b.retryBaseMs, retryMaxMs: b.retryMaxMs, hourlyMaxSteps: b.forecastHours, recordMaxAgeMs: 7 * DAY_MS,
    mapThreads: b.mapThreads,
    ...(o.smoother ? { smoother: o.smoother } : {}), ...(o.now ? { now: o.now } : {}),
  });
  const scheduler = startScheduler({
    worker, log: o.log, lagMs: b.lagMs, catchupMs: b.catchupMs, revisit: b.revisit, retentionMs: b.retentionMs,
    stateRetentionMs: Math.max(b.revisit.horizonMs, b.catchupMs) + 4 * b.windowMs,
    ...(o.now ? { now: o.now } : {}),
  });
  return {
    domain, worker, scheduler,
    stop: async () => {
      await scheduler.stop();
      await worker.close();
    },
  };
}
