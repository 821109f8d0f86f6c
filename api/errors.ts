/** The API's error catalogue: one code per failure, mapped to its HTTP status here and only here. */

export const API_ERRORS = {
  INVALID_PARAMETER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OUTSIDE_COVERAGE: 404,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  NOT_READY: 503,
  STORE_UNAVAILABLE: 503,
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
