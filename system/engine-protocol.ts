/** Messages between the HTTP thread and the engine thread (which owns the store and the bus). */
import type { Config } from '../infra/config.ts';

export type EngineRequest =
  | { id: number; op: 'query'; sql: string; params?: unknown[] }
  | { id: number; op: 'txBegin' }
  | { id: number; op: 'txQuery'; tx: number; sql: string; params?: unknown[] }
  | { id: number; op: 'txEnd'; tx: number; commit: boolean }
  | { id: number; op: 'publish'; topic: string; messages: { key: string; value: Uint8Array; timestampMs?: number }[] }
  | { id: number; op: 'ledger' }
  | { id: number; op: 'latestDoneRunTime' }
  | { id: number; op: 'readRun'; runTimeMs: number }
  | { id: number; op: 'readPast'; sinceMs: number; beforeMs: number; everyMs: number }
  | { id: number; op: 'stop' };

export type EngineReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; name: string; code?: string } };

export type EngineEvent =
  | { event: 'ready'; storeKind: 'pglite' | 'pg'; busKind: 'memory' | 'kafka' }
  | { event: 'fatal'; error: { message: string; name: string; code?: string } };

export interface EngineData {
  config: Config;
}
