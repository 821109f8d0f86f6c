/** The QC command over CSV readings, the export of its columns from a data folder, and the comparison with titanlib. */
export { ReadingsParser, ReadingsInputError, parseReadings, readingLine, csvField, READING_COLUMNS, type ReadingsTable, type ReadingsInputErrorCode } from './readings-table.ts';
export { qcByWindow, type QcReadingsColumns, type WindowQcOptions, type WindowQcResult } from './window-qc.ts';
export { exportReadings, type StandardReadings, type ExportOptions, type ExportResult } from './export.ts';
export { qcCommand, QC_USAGE, type CommandIo } from './command.ts';
export { crowdHours, type CrowdHour } from './crowd-hours.ts';
export { checkWindows, buddyCase, sctCase, addConfusion, agreementOf, EMPTY_CONFUSION, type CheckWindow, type CheckWindows, type Confusion } from './check-comparison.ts';
export { qcCompareCommand, compareFlags, COMPARE_USAGE, type CompareIo } from './compare.ts';
export { forEachLine, writeLines, readReadingsFile, loadBackground } from './readings-file.ts';
