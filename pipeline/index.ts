/** The batch: the pure nowcast core and the scheduled run around it. */
export { buildBackgroundField, type BackgroundField, type BackgroundSample, type BackgroundFieldOptions } from './background-field.ts';
export { meanBiasByCell, median, type Innovation, type CellBias, type MeanBiasResult, type MeanBiasOptions } from './mean-bias.ts';
export { innovationsOf, nowcastCells, nowcastWindow, STEP_MIN, STEPS, type WindowColumns, type GridCell, type CellNowcast, type NowcastOptions } from './nowcast.ts';
export { runBatch, domainGrid, BatchError, type BatchOptions, type BatchResult } from './batch.ts';
export { startScheduler, dueWindowEnd, type Scheduler, type SchedulerOptions } from './scheduler.ts';
