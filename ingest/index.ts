/** Ingest: the reading codec, topics, the worker, submission (keys, protocols, checks), and the simulated city that feeds the demo. */
export { decodeReading, encodeReading, decodeReadings, encodeReadings, MAX_READINGS_PER_MESSAGE, type DecodedReadings, decodeBackground, encodeBackground, readingSchema, backgroundSchema, TEMP_MIN_C, TEMP_MAX_C, MAX_FUTURE_MS, type Reading, type BackgroundValue, type Decoded } from './reading.ts';
export { topicNames, topicSpecs, partitionKey, type Topics } from './topics.ts';
export { startIngestWorker, type IngestWorker, type IngestOptions, type IngestStats } from './worker.ts';
export { OFFICIAL_INTERVAL_MS, createCity, trueTempC, backgroundTempC, readingInSlot, slotsBetween, type City, type SimSensor, type SimReading } from './sim/city.ts';
export { startSimulatedFeed, type Feed } from './sim/feed.ts';
export { uniform, normal } from './sim/random.ts';
export { fahrenheitToCelsius, inHgToHpa, HPA_PER_INHG } from './units.ts';
export { checkValue, canonicalReading, dropDuplicates, readingMessages, CoalescingPublisher, BusUnavailableError, PublishTimeoutError, DEFAULT_PUBLISH_TIMEOUT_MS, chunkByBytes, MAX_SEND_BYTES, type SubmittedValue, type StationPosition, type ValueProblem, type CheckOptions } from './submission.ts';
export { newSecret, principalOf, hashSecret, verifySecret, secretsEqual, VerifiedSecrets, PRINCIPAL_ID_RE, type HashCost } from './station-key.ts';
export { Authenticator, type AuthFailure, type Authenticated } from './authenticator.ts';
export { countRefusal, countAccepted, refusalCount, type RefusalReason, type SubmissionPath } from './refusals.ts';
export { parseWundergroundUpload, parseWuDate, WU_SUCCESS, WU_BAD_CREDENTIALS, type WuParsed } from './wunderground.ts';
export { parseEcowittUpload, type EcowittParsed } from './ecowitt.ts';
export { parseSensorCommunityUpload, TEMPERATURE_SENSORS, type SensorCommunityParsed } from './sensor-community.ts';
export { parseArrowReadings, ARROW_STREAM_TYPE, type StationValue, type ArrowParsed } from './arrow-readings.ts';
