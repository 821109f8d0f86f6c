/** The HTTP API. */
export { createApp, maxServedAgeMs, type AppDeps, type ReadinessCheck } from './app.ts';
export { ApiError, API_ERRORS, type ApiErrorCode } from './errors.ts';
export { listen, ListenError, type Listening } from './server.ts';
export { LiveSnapshot, storeRunSource, PAST_EVERY_MS, type RunSource, type SnapshotStatus } from './live-snapshot.ts';
export { Snapshot } from './snapshot.ts';
export { openApiDocument, errorSchema, type RouteDoc } from './openapi.ts';
export type { ApiContext, ApiModule, ApiModuleFactory, BusProducer } from './module.ts';
export { registerNowcastMetrics } from './nowcast-metrics.ts';
export { collectProcessMetrics } from './http-metrics.ts';
export { decodePalettePng } from './png.ts';
export { modelsModule, modelsRouter, modelsRouteDocs } from './models.ts';
export { ModelThread, type ModelThreadOptions } from './model-thread.ts';
export { registryModelService, type ModelService, type ModelSummary } from './model-service.ts';
export { submissionRoutes, type SubmissionDeps, type SubmissionLimits, DEFAULT_SUBMISSION_LIMITS } from './submission.ts';
export { submissionApp } from './submission-app.ts';
export { ingestApiModule, submissionDocs } from './submission-module.ts';
