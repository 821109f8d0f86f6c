/** The HTTP API. */
export { createApp, type AppDeps } from './app.ts';
export { ApiError, API_ERRORS, type ApiErrorCode } from './errors.ts';
export { submissionRoutes, type SubmissionDeps, type SubmissionLimits, DEFAULT_SUBMISSION_LIMITS } from './submission.ts';
export { submissionApp } from './submission-app.ts';
export { ingestApiModule, submissionDocs } from './submission-module.ts';
