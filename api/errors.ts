/** The API's error catalogue: one code per failure, mapped to its HTTP status here and only here. */

export const API_ERRORS = {
  INVALID_PARAMETER: 400,
  UNAUTHORIZED: 401,
  REQUEST_TIMEOUT: 408,
  FORBIDDEN: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OUTSIDE_COVERAGE: 404,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  NOT_READY: 503,
  STORE_UNAVAILABLE: 503,
  BUS_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: { retryAfterS?: number } = {},
  ) {
    super(message);
  }

  get status(): number {
    return API_ERRORS[this.code];
  }
}

/** The body of every error response (Open-Meteo's `{ error, reason }` plus a stable code). */
export function errorBody(e: ApiError): { error: true; code: ApiErrorCode; reason: string } {
  return { error: true, code: e.code, reason: e.message };
}

/** Any thrown value as a catalogue error: client errors raised by Express or its parsers keep their 4xx meaning. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
  const status = e && typeof e === 'object' ? (e.status ?? e.statusCode) : undefined;
  // SQLSTATE class 22 (data exception): a value the store cannot hold (a NUL in text, a number out of
  // range) that no check caught earlier. It came from the request, so it is the client's to fix.
  const sqlState = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return new ApiError('INVALID_PARAMETER', `A value of the request cannot be stored (${String(e.message ?? sqlState).slice(0, 120)}).`);
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    return new ApiError('INVALID_PARAMETER', `The request could not be read: ${String(e.message ?? e.type ?? status).slice(0, 200)}`);
  }
  return new ApiError('INTERNAL', 'Internal error.');
}

/** The HTTP answer of an error: its status, Retry-After when it has one, the JSON body. */
export function errorAnswer(e: ApiError): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  if (e.details.retryAfterS !== undefined) headers['Retry-After'] = String(e.details.retryAfterS);
  return { status: e.status, headers, body: JSON.stringify(errorBody(e)) };
}
