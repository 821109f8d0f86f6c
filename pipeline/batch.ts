/**
 * One batch run over one window [end - windowMs, end): read the window's readings and the
 * background from the store, run the pure nowcast, write the nowcasts and the ledger row.
 * Idempotent per window: a rerun replaces the window's nowcasts.
 */
import type { Store } from '../infra/store/index.ts';
import type { Logger } from '../infra/log.ts';
import { cellCenter, cellsCoveringBBox, type BBox } from '../infra/geo/index.ts';
import { readingsInWindow, backgroundBetween, claimBatchRun, failBatchRun, finishBatchRun, writeNowcasts, dropNowcastsBefore } from '../infra/store/index.ts';
import { buildBackgroundField } from './background-field.ts';
import { nowcastWindow, STEP_MIN, STEPS, type GridCell } from './nowcast.ts';
import { BIAS_PERSISTENCE_METHOD } from '../models/index.ts';

import { HOUR_MS } from '../infra/time.ts';

export interface BatchOptions {
  store: Store;
  log: Logger;
  /** The domain's cells (see domainGrid). */
  grid: readonly GridCell[];
  windowMs: number;
  /** Nowcasts older than this are dropped after each run [ms] (whole chunks). */
  retentionMs?: number;
  now?: () => number;
}

export interface BatchResult {
  windowEndMs: number;
  status: 'done' | 'skipped' | 'failed';
  nReadings: number;
  nSensors: number;
  nCells: number;
  elapsedMs: number;
  error?: string;
}

/** Every cell that intersects the domain's box (so every point in it has its cell), with its centre, in a stable order. */
export function domainGrid(bbox: BBox, resolution: number): GridCell[] {
  return cellsCoveringBBox(bbox, resolution).map((cell) => ({ cell, centre: cellCenter(cell) }));
}

export class BatchError extends Error {
  constructor(readonly code: 'NO_BACKGROUND', message: string) {
    super(message);
  }
}

export async function runBatch(o: BatchOptions, windowEndMs: number): Promise<BatchResult> {
  const now = o.now ?? Date.now;
  const started = now();
  const windowStartMs = windowEndMs - o.windowMs;
  const claimed = await claimBatchRun(o.store, { windowStartMs, windowEndMs, method: BIAS_PERSISTENCE_METHOD, nowMs: started, staleMs: 10 * o.windowMs });
  if (!claimed) return { windowEndMs, status: 'skipped', nReadings: 0, nSensors: 0, nCells: 0, elapsedMs: now() - started };
  try {
    const window = await readingsInWindow(o.store, windowStartMs, windowEndMs);
    const bg = await backgroundBetween(o.store, windowStartMs - 2 * HOUR_MS, windowEndMs + STEPS * STEP_MIN * 60_000 + 2 * HOUR_MS);
    if (bg.length === 0) throw new BatchError('NO_BACKGROUND', `no background forecast valid around ${new Date(windowEndMs).toISOString()}`);
    const field = buildBackgroundField(bg);
    const result = nowcastWindow(window, field, o.grid, { runTimeMs: windowEndMs, stepMin: STEP_MIN, steps: STEPS });
    await o.store.transaction(async (tx) => {
      await writeNowcasts(tx, { runTimeMs: windowEndMs, stepMin: STEP_MIN, method: BIAS_PERSISTENCE_METHOD }, result.cells);
      await finishBatchRun(tx, windowEndMs, { nowMs: now(), nReadings: window.sensorId.length, nSensors: result.biases.nSensors, nCells: result.cells.length });
    });
    if (o.retentionMs !== undefined) await dropNowcastsBefore(o.store, windowEndMs - o.retentionMs);
    const r: BatchResult = { windowEndMs, status: 'done', nReadings: window.sensorId.length, nSensors: result.biases.nSensors, nCells: result.cells.length, elapsedMs: now() - started };
    o.log.info({ role: 'pipeline', window: new Date(windowEndMs).toISOString(), readings: r.nReadings, sensors: r.nSensors, cells: r.nCells, domainBiasK: Number(result.biases.domain.biasK.toFixed(2)), elapsedMs: r.elapsedMs }, 'batch done');
    return r;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await failBatchRun(o.store, windowEndMs, now(), message).catch(() => undefined);
    o.log.error({ role: 'pipeline', window: new Date(windowEndMs).toISOString(), err }, 'batch failed');
    return { windowEndMs, status: 'failed', nReadings: 0, nSensors: 0, nCells: 0, elapsedMs: now() - started, error: message };
  }
}
