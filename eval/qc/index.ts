/** Tools over whole data sets for QC: the hours of a crowd data set as station sets. */
export { crowdHours, type CrowdHour } from './crowd-hours.ts';
