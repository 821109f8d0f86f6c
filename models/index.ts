/** Next-hour models: the baseline, the BiLSTM smoother, the autoregressive baseline, and the registry that serves them. */
export { biasAtLead, BIAS_PERSISTENCE_METHOD, type BiasPersistenceOptions, type LeadForecast } from './baselines/bias-persistence.ts';
export { SMOOTHER_STEP_MIN, type SmootherInput, type NextHourSmoother } from './smoother.ts';
export { resampleToGrid, stampedToGrid, backgroundOnGrid, slotTime, STEP_MS, type GridSeries } from './series/grid-series.ts';
export { extractIssues, issueSlots, subsetIssues, thinHistory, type IssueSet, type IssueOptions } from './series/issues.ts';
export { keepLastHistory, restartHistory } from './series/cold-start.ts';
export { isValidationTime, splitOf, WEEK_MS, VALIDATION_EVERY_WEEKS, type SplitPart } from './series/time-split.ts';
export { buildFeatures, HISTORY_STEPS, TRAJECTORY_STEPS, SEQUENCE_STEPS, FEATURES, FEATURE_NAMES, TEMP_SCALE_K } from './bilstm/features.ts';
export { fitAr, predictAr, arToOnnx, arLevelWeights, type ArModel } from './ar/ar-model.ts';
export { ModelRegistry, ModelError, MODEL_ERROR_CODES, checkFeeds, type ModelErrorCode, type ModelStatus, type RegistryHealth, type ModelHealth, type Tensor32, type RegistryOptions } from './registry/registry.ts';
export { modelCardSchema, tensorSpecSchema, sha256Hex, MODEL_NAME_RE, type ModelCard, type TensorSpec } from './registry/model-card.ts';
export { createOnnxSmoother, SMOOTHER_BATCH_CELLS, type OnnxSmoother, type SmootherRowsInput } from './registry/onnx-smoother.ts';
export { seededRandom } from './train/random.ts';
export { blendDescription, blendIssue, blendIssueSequence, blendWeights, BlendError, SERVED_BLEND, NO_BLEND, BLEND_SHAPES, type IssueBlend, type BlendShape } from './bilstm/issue-blend.ts';
