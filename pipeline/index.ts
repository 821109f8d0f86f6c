/** The batch: QC, the two-scale analysis with the Kalman filter, the sharded run and its schedule. */
export { buildBackgroundField, LAPSE_RATE_K_PER_M, type BackgroundField, type BackgroundSample, type BackgroundFieldOptions } from './background-field.ts';
export { meanBiasByCell, median, type Innovation, type CellBias, type MeanBiasResult, type MeanBiasOptions } from './mean-bias.ts';
export { innovationsOf, nowcastCells, nowcastWindow, STEP_MIN, STEPS, type WindowColumns, type GridCell, type CellNowcast, type NowcastOptions } from './nowcast.ts';
export { BatchWorker, domainGrid, makeDomain, FILTER_METHOD, FALLBACK_METHOD, type BatchOptions, type Domain, type WindowResult } from './batch.ts';
export { startScheduler, dueWindowEnd, type Scheduler, type SchedulerOptions } from './scheduler.ts';
export { DEFAULT_QC } from './qc/defaults.ts';
export { DEFAULT_ANALYSIS, stationFilterRetention } from './analysis/defaults.ts';
export { QC_REASONS, REASON_CODE, reasonName, type QcReason } from './qc/reasons.ts';
export { runQcChain, type QcOptions, type QcInput, type QcOutput } from './qc/chain.ts';
export { decodeFlags, type ReadingFlags } from './artefacts.ts';
export { startPipelineRole, type PipelineRole } from './pipeline-role.ts';
