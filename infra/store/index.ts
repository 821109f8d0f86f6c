/**
 * Opening the store: the adapter is chosen by URL and the schema migrated before it is handed out.
 *   postgres://… / postgresql://…  → pg (a TimescaleDB server)
 *   memory://                      → embedded PGlite, in memory
 *   file:///dir or a path          → embedded PGlite in that directory (relative to the cwd)
 */
import type { Logger } from '../log.ts';
import { migrate } from './migrate.ts';
import { PgStore } from './pg-store.ts';
import { PgliteStore } from './pglite-store.ts';
import type { Store } from './store.ts';

export type { Queryable, QueryResult, Store } from './store.ts';
export { runTimescaleJobs, startJobTimer, type JobRun } from './jobs.ts';
export { insertReadings, writeReadings, upsertSensors, InvalidRowError, DEFAULT_CHUNK_ROWS, READING_COLUMNS, type ReadingRow, type SensorRow, type SensorKind, type ReadingsWritten, type ReadingWriteOptions } from './readings.ts';
export { migrate, MigrationError, type AppliedMigration } from './migrate.ts';
export { StoreUrlError } from './pglite-store.ts';
export { StoreError, isRetryableStoreError, STORE_ERROR_CODES, type StoreErrorCode } from './store-error.ts';
export { DataDirLockedError } from './dir-lock.ts';

export interface OpenStoreOptions {
  /** Connections of the pg pool (ignored by the embedded store, which has one). */
  poolSize?: number;
  /** How long an idle pg connection stays open [ms] (server only). */
  idleTimeoutMs?: number;
  /** How long a query waits for a pg connection [ms] (server only). */
  connectionTimeoutMs?: number;
  /** The server cancels a statement running longer than this [ms]; 0 = no limit (server only). */
  statementTimeoutMs?: number;
  log?: Logger;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store at `url` and applies pending migrations; closes it again if they fail. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { log } = options;
  const store: Store = isPostgresUrl(url)
    ? await PgStore.open(url, { poolSize: options.poolSize, idleTimeoutMs: options.idleTimeoutMs, connectionTimeoutMs: options.connectionTimeoutMs, statementTimeoutMs: options.statementTimeoutMs, log })
    : await PgliteStore.open(url, { log });
  try {
    const applied = await migrate(store, { log });
    log?.info({ kind: store.kind, applied: applied.map((m) => `${m.version}_${m.name}`) }, 'store ready');
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

// Domain SQL beside the hot path.
export { upsertBackground, backgroundBetween, type BackgroundRow } from './background.ts';
export { insertDeadLetters, type DeadLetter } from './dead-letters.ts';
export { readingsInWindow, readingColumns, parseReadingLines, type WindowReadings, type ReadingColumns } from './reading-window.ts';
export { writeNowcasts, writeShardNowcasts, dropNowcastsBefore, latestNowcast, claimBatchRun, finishBatchRun, failBatchRun, latestBatchRun, type NowcastRow, type StoredNowcast, type BatchRun } from './nowcasts.ts';
export { createTasks, resetTasks, claimTask, renewLease, finishTask, releaseTask, phaseProgress, deleteTasksBefore, type TaskClaim, type TaskPhase, type PhaseProgress } from './batch-tasks.ts';
export { putBlobs, getBlobs, shardBlobsSince, newestShardBlob, deleteBlobsBefore, type Blob } from './batch-blobs.ts';
export { openWindow, nextOpenWindow, newestWindowEnd, latestDoneBefore, restartWindow, finishWindow, failWindow, lateReadingsAfterRun, markRevisit, type WindowRow, type WindowOutcome } from './batch-ledger.ts';
export {
  insertStation, ensureStations, getStation, stationCredentials, stationsByIds, updateStation, bindEcowittPasskey, lastReading, readingsOf,
  insertPartner, partnerCredentials, setPartnerDisabled, setPartnerTokenHash, StationExistsError,
  type StationRecord, type StationCredentials, type NewStation, type StationPatch, type StationReading, type PartnerRecord, type PartnerCredentials,
} from './stations.ts';
export { readRunColumns, runColumnBuffers, latestDoneRunTime, doneRunTimesSince, readLeadZero, ledgerState, type RunColumns, type LeadZero, type LedgerState } from './nowcasts.ts';
