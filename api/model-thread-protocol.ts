/** The messages between the HTTP thread (model-thread.ts) and the model thread (model-thread-worker.ts). */
import type { RegistryHealth } from '../models/index.ts';
import type { ApiErrorCode } from './errors.ts';
import type { ModelSummary } from './model-service.ts';

export interface ModelThreadData {
  dir: string;
  pollMs: number;
  intraOpThreads?: number;
  expected: string[];
  logLevel: string;
}

/** The registry as the thread last saw it (sent when it changes). */
export interface ModelThreadState {
  list: ModelSummary[];
  health: RegistryHealth;
}

export type ToModelThread = { kind: 'predict'; id: number; name: string; body: Uint8Array } | { kind: 'close' };

export type FromModelThread =
  | { kind: 'state'; state: ModelThreadState }
  | { kind: 'answer'; id: number; json: string }
  | { kind: 'failed'; id: number; code: ApiErrorCode; reason: string; retryAfterS?: number }
  | { kind: 'open-failed'; reason: string }
  | { kind: 'closed' };
