/**
 * Store failures that callers act on, as codes rather than driver messages:
 *
 * - STORE_UNAVAILABLE (retryable): the server cannot be reached, a connection dropped (ECONNRESET,
 *   a server restart or shutdown), or no connection was free within STORE_CONNECT_TIMEOUT_MS.
 * - STORE_TIMEOUT (retryable): a statement ran longer than STORE_STATEMENT_TIMEOUT_MS.
 * - STORE_REFUSED: the server refused the credentials in STORE_URL, or has no such database.
 * - STORE_NO_TIMESCALEDB: the server lacks the TimescaleDB extension, or does not preload it.
 * - STORE_DIR_UNWRITABLE: the embedded store's data directory cannot be created or written.
 * - STORE_DISK_FULL (retryable): the disk of the embedded store's data directory, or the server's, is
 *   full (SQLSTATE 53100 or no room to open); the same write may succeed once space is freed.
 *
 * Errors of the SQL itself (a constraint, a syntax error) are not wrapped: they keep their SQLSTATE.
 * A retryable error means the same call may succeed later; nothing of it was committed unless the
 * connection dropped during COMMIT, which every write path here tolerates (idempotent writes).
 */
export const STORE_ERROR_CODES = ['STORE_UNAVAILABLE', 'STORE_TIMEOUT', 'STORE_REFUSED', 'STORE_NO_TIMESCALEDB', 'STORE_DIR_UNWRITABLE', 'STORE_DISK_FULL'] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<StoreErrorCode> = new Set(['STORE_UNAVAILABLE', 'STORE_TIMEOUT', 'STORE_DISK_FULL']);

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly retryable: boolean;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = RETRYABLE.has(code);
  }
}

/** True for a StoreError a later attempt may get past (the store is down, restarting or slow). */
export function isRetryableStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError && err.retryable;
}
