/** Next-hour models. For now the baseline the BiLSTM will have to beat. */
export { biasAtLead, BIAS_PERSISTENCE_METHOD, type BiasPersistenceOptions, type LeadForecast } from './baselines/bias-persistence.ts';
export { SMOOTHER_STEP_MIN, type SmootherInput, type NextHourSmoother } from './smoother.ts';
