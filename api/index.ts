/** The HTTP API. */
export { createApp, type AppDeps } from './app.ts';
export { ApiError, API_ERRORS, type ApiErrorCode } from './errors.ts';
