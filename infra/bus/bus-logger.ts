/**
 * The little logging the bus adapters do (handler failures, client warnings). Structurally a subset of
 * pino's Logger, so `createLogger(...)` from infra/log.ts can be passed as is.
 */
export interface BusLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
